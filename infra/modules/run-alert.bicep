// An alert for every run that ends failed or held for confirmation: a log search alert rule over the run
// summary events the app sends to Application Insights (UserSync.runSummary, shared/audit/app-insights.ts;
// dry runs send none), and an action group that mails the admin.

@description('Region of the alert rule.')
param location string

@description('Prefixes the resource names (USERSYNC_NAME_PREFIX).')
param namePrefix string

@description('Suffix that makes the names unique (main.bicep\'s token).')
param token string

@description('Resource id of the Application Insights component the app sends its events to.')
param appInsightsId string

@description('Where the alerts are sent.')
param alertEmail string

// One row per run that failed or is waiting for an admin. Events can reach Application Insights minutes after
// they are sent, so the rule looks back an hour but counts an event only in the evaluation after it arrived
// (ingestion_time within the 5 minutes of evaluationFrequency): every run alerts once, none is missed.
var runQuery = '''
customEvents
| where name == "UserSync.runSummary" and ingestion_time() > ago(5m)
| extend state = tostring(customDimensions.state), connection = tostring(customDimensions.connection), runId = tostring(customDimensions.runId)
| where state in ("failed", "needs-confirmation")
| project timestamp, connection, state, runId
'''

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-alerts-${token}'
  location: 'global'
  properties: {
    groupShortName: take(namePrefix, 12)
    enabled: true
    emailReceivers: [
      {
        name: 'usersync admin'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource runAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-run-alert-${token}'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'usersync: a run failed or waits for confirmation'
    description: 'failed: the run disabled no one; see usersync status NAME and usersync audit --run RUN_ID. needs-confirmation: the disable guard held its disables; usersync status NAME names them, usersync confirm RUN_ID applies them, or the next run re-evaluates.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: runQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          // One alert per run, naming its connection, state and id.
          dimensions: [
            {
              name: 'connection'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'state'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'runId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    // Each run is an event to act on, not a condition that clears: no "resolved" mail.
    autoMitigate: false
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// usersync on Azure, provisioned and deployed by `azd up` (azure.yaml): a storage account (tables, queues,
// blobs; no shared keys: modules/storage.bicep), a Flex Consumption function app (Node 22) running as a
// user-assigned managed identity behind Microsoft Entra authentication (Easy Auth) for the API's app
// registration, whose app roles UserSync.Admin and UserSync.Reader decide what a caller may do
// (modules/api-registration.bicep), Application Insights on a Log Analytics workspace with an alert on
// failed and held runs (modules/run-alert.bicep), and a Key Vault (RBAC) whose secrets reach the app as
// Key Vault references.
//
// Deploy: see infra/README.md. test/infra/settings-crosscheck.test.ts keeps the app settings below in
// step with shared/config/settings.ts (every setting the code reads, with the same defaults).

targetScope = 'resourceGroup'

@description('Region of every resource. Defaults to the resource group\'s region (it must offer Flex Consumption).')
param location string = resourceGroup().location

@description('Names the app\'s tables, queues and containers (the USERSYNC_NAME_PREFIX setting) and prefixes resource names: 2-24 lowercase letters or digits, starting with a letter (the app refuses any other at start-up).')
@minLength(2)
@maxLength(24)
param namePrefix string = 'usersync'

@description('Licences: active users of all directories and local accounts. Empty means no limit; otherwise a whole number of at least 1.')
param licenceLimit string = ''

@description('Days a run\'s files (its archived input, with the password column blanked, for roll-back with --from-run) are kept: the USERSYNC_ARCHIVE_DAYS setting and the runs container\'s lifecycle rule.')
@minValue(1)
@maxValue(3650)
param archiveDays int = 30

@description('Secret app settings, each resolved from a Key Vault secret of this deployment\'s vault: name is the app setting a connection profile names (e.g. HR_DEFAULT_PASSWORD), secretName the Key Vault secret (letters, digits and hyphens). Set the secret before listing it here.')
param secretSettings secretSetting[] = []

@description('Object id of the user or group that administers usersync: it gets the UserSync.Admin app role and may set the Key Vault\'s secrets, nothing more. Empty: whoever deploys.')
param adminPrincipalId string = ''

@description('Application (client) id of an existing app registration for the API, made by an Entra admin with the script in infra/README.md. Empty: this deployment creates the registration, its app roles and the admin\'s UserSync.Admin assignment.')
param apiClientId string = ''

@description('Address that gets an alert for every run that fails or is held for confirmation. Empty: no alert rule and no action group.')
param alertEmail string = ''

@description('An app setting whose value is a Key Vault reference.')
type secretSetting = {
  @description('App setting name, as named by a connection profile (defaultPasswordSecret, passwordSecret, secretName, tokenSecret, ...).')
  name: string
  @description('Key Vault secret name (1-127 letters, digits and hyphens).')
  secretName: string
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var token = uniqueString(resourceGroup().id, namePrefix)
// Storage account and Key Vault names allow lowercase letters and digits only (the vault hyphens too): they take
// the prefix's letters and digits, lower-cased, so no prefix can make them invalid.
var prefixAlphanumeric = join(
  filter(
    map(range(0, length(namePrefix)), i => toLower(substring(namePrefix, i, 1))),
    c => contains('abcdefghijklmnopqrstuvwxyz0123456789', c)
  ),
  ''
)
var storageAccountName = '${take(prefixAlphanumeric, 11)}${token}' // 13-24 lowercase letters and digits
var keyVaultName = 'kv${take(prefixAlphanumeric, 9)}${token}' // 15-24, starts with a letter
var functionAppName = '${namePrefix}-func-${token}'
var planName = '${namePrefix}-plan-${token}'
var identityName = '${namePrefix}-id-${token}'
var workspaceName = '${namePrefix}-logs-${token}'
var appInsightsName = '${namePrefix}-appi-${token}'
var deploymentContainerName = 'app-package'
// azure.yaml deploys its service `api` to the function app carrying this tag.
var azdServiceName = 'api'

var adminId = empty(adminPrincipalId) ? deployer().objectId : adminPrincipalId

var monitoringMetricsPublisherRole = '3913510d-42f4-4e42-8a64-420c390055eb' // built-in role definition id

// ---------------------------------------------------------------------------------------------
// Identity and storage
// ---------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    accountName: storageAccountName
    namePrefix: namePrefix
    archiveDays: archiveDays
    deploymentContainerName: deploymentContainerName
    identityId: identity.id
    identityPrincipalId: identity.properties.principalId
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // The host sends telemetry with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING and the
    // Monitoring Metrics Publisher role below). Local auth stays on while the app's own exporter
    // (shared/audit/app-insights.ts) sends with the connection string alone; set true once it passes a credential.
    DisableLocalAuth: false
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, monitoringMetricsPublisherRole)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRole)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault: the secrets connection profiles name (by app setting)
// ---------------------------------------------------------------------------------------------

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    location: location
    vaultName: keyVaultName
    identityId: identity.id
    identityPrincipalId: identity.properties.principalId
    adminPrincipalId: adminId
  }
}

// Versionless references: the platform picks up a new secret version within 24 hours (or on restart).
var keyVaultReferenceSettings = [
  for setting in secretSettings: {
    name: setting.name
    value: '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${setting.secretName})'
  }
]

// ---------------------------------------------------------------------------------------------
// Function app: Flex Consumption, Node 22
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  tags: {
    'azd-service-name': azdServiceName
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (Key Vault Secrets User, modules/key-vault.bicep).
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        // Bounds the fan-out of queue workers against one storage account (~2,000 entities/s per partition).
        maximumInstanceCount: 40
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      // Flex Consumption sets the worker runtime and version from functionAppConfig: no
      // FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION / WEBSITE_RUN_FROM_PACKAGE here.
      appSettings: concat([
        // Host storage (triggers, keys, timer lock): identity-based, no connection string.
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.outputs.name
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identity.properties.clientId
        }
        // The identity DefaultAzureCredential / ManagedIdentityCredential picks in the app's own code.
        {
          name: 'AZURE_CLIENT_ID'
          value: identity.properties.clientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identity.properties.clientId};Authorization=AAD'
        }
        // shared/config/settings.ts, with its defaults.
        {
          name: 'USERSYNC_NAME_PREFIX'
          value: namePrefix
        }
        {
          name: 'USERSYNC_PAGE_SIZE'
          value: '1000'
        }
        {
          name: 'USERSYNC_SHARD_BYTES'
          value: '6000000'
        }
        {
          name: 'USERSYNC_ALLOW_INSECURE_HTTP'
          value: 'false'
        }
        {
          name: 'USERSYNC_ALLOW_PRIVATE_SOURCES'
          value: 'false'
        }
        {
          name: 'USERSYNC_ARCHIVE_DAYS'
          value: string(archiveDays)
        }
        {
          // The largest CSV upload (PUT /connections/{name}/csv); above 100 MB raise FUNCTIONS_REQUEST_BODY_SIZE_LIMIT too.
          name: 'USERSYNC_CSV_MAX_BYTES'
          value: '104857600'
        }
        {
          name: 'USERSYNC_LICENCE_LIMIT'
          value: licenceLimit
        }
        {
          name: 'USERSYNC_TIMER_SCHEDULE'
          value: '0 */1 * * * *'
        }
        // The web console answers at the app's root (functions/console.ts), not the Functions host's own page.
        {
          name: 'AzureWebJobsDisableHomepage'
          value: 'true'
        }
      ], keyVaultReferenceSettings)
    }
  }
  dependsOn: [
    metricsPublisher
    keyVault
  ]
}

// ---------------------------------------------------------------------------------------------
// Who may call the API: Entra ID in front (Easy Auth), the caller's app roles in the app
// ---------------------------------------------------------------------------------------------

module apiRegistration 'modules/api-registration.bicep' = if (empty(apiClientId)) {
  name: 'api-registration'
  params: {
    uniqueName: '${namePrefix}-api-${token}'
    displayName: 'User Directory Sync API (${resourceGroup().name})'
    // Where Entra ID sends a browser back after signing in to the console (Easy Auth's callback).
    appHostName: functionApp.properties.defaultHostName
  }
}

var apiAppId = empty(apiClientId) ? apiRegistration!.outputs.appId : apiClientId

// Every request needs an Entra sign-in for the API's registration before the app runs: a client's access token
// (the CLI, automation: validated, or 401), or a browser's session — a browser without one is sent to sign in
// (the console; the CLI says `az login` to such a redirect). Easy Auth then passes the caller's claims (its app
// roles among them) in x-ms-client-principal, a header the platform strips from incoming requests, and sets
// WEBSITE_AUTH_ENABLED=True in the app's environment: the app trusts the header only then, so that setting is
// never an app setting here. A session is a cookie a browser sends along cross-site too: the app refuses a
// change that carries neither a bearer token nor X-UserSync-Client (shared/http/csrf.ts).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      // The console: a browser without a session signs in with Entra ID (a request with a bad token is still 401).
      unauthenticatedClientAction: 'RedirectToLoginPage'
      // The SCIM endpoint (functions/scim.ts): Entra's and Okta's provisioning send the connection's bearer
      // token, not an Entra sign-in for this app; the app checks that token itself on every request.
      excludedPaths: [
        '/scim'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiAppId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          // v2 tokens carry the application id; v1 tokens (an existing registration may issue them) the URI.
          allowedAudiences: [
            apiAppId
            'api://${apiAppId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// After the function app and its authentication, so that the new service principal has reached all of Entra ID.
module apiAdminRole 'modules/api-admin-role.bicep' = if (empty(apiClientId)) {
  name: 'api-admin-role'
  params: {
    servicePrincipalId: apiRegistration!.outputs.servicePrincipalId
    appRoleId: apiRegistration!.outputs.adminRoleId
    adminPrincipalId: adminId
  }
  dependsOn: [
    auth
  ]
}

// ---------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------

module runAlert 'modules/run-alert.bicep' = if (!empty(alertEmail)) {
  name: 'run-alert'
  params: {
    location: location
    namePrefix: namePrefix
    token: token
    appInsightsId: appInsights.id
    alertEmail: alertEmail
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd keeps them in its environment: `azd env get-values`)
// ---------------------------------------------------------------------------------------------

@description('The app\'s address: the web console at its root, for a browser; the HTTP API under /api, for `usersync --url`.')
output USERSYNC_URL string = 'https://${functionApp.properties.defaultHostName}'
@description('Application (client) id of the API\'s registration, whose app roles say who may do what.')
output USERSYNC_API_APP_ID string = apiAppId
@description('The scope a client asks Entra ID a token for, to call the API.')
output USERSYNC_API_SCOPE string = 'api://${apiAppId}/.default'
output AZURE_FUNCTION_APP_NAME string = functionApp.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

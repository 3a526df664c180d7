// Optional: Microsoft Entra authentication (App Service "Easy Auth", authsettingsV2) in front of the
// function app deployed by main.bicep. Every HTTP request then needs an Entra access token for the API
// app registration, in addition to the function key the HTTP triggers already require.
// Deploy after main.bicep: see infra/README.md, "Entra authentication in front of the API".

targetScope = 'resourceGroup'

@description('The function app (main.bicep output functionAppName).')
param functionAppName string

@description('Application (client) id of the app registration that represents the usersync API.')
param apiClientId string

@description('Client application ids allowed to call the API (the appid/azp claim of their tokens).')
@minLength(1)
param allowedClientApplications string[]

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      // An API: answer 401, never redirect to a sign-in page.
      unauthenticatedClientAction: 'Return401'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          // v1 tokens carry the identifier URI, v2 tokens the client id.
          allowedAudiences: [
            'api://${apiClientId}'
            apiClientId
          ]
          defaultAuthorizationPolicy: {
            allowedApplications: allowedClientApplications
          }
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

// The API's app registration in Microsoft Entra ID, with the Microsoft Graph Bicep extension: the app roles
// UserSync.Admin and UserSync.Reader (app-roles.json, which infra/README.md's script for an existing
// registration uses too), a user_impersonation scope the Azure CLI and Azure PowerShell may use without a
// consent prompt (so `az login` is enough for `usersync --url`), the web console's sign-in (Easy Auth's
// callback, ID tokens), a service principal that issues tokens only to principals holding one of the roles. (modules/api-admin-role.bicep then assigns UserSync.Admin.)
//
// Deploying it needs the right to register applications in the tenant (by default every member has it); the
// deployer is made owner of the registration and its service principal.

extension microsoftGraphV1

@description('Alternate key of the registration, unique in the tenant: redeploying updates the same registration.')
param uniqueName string

@description('Name shown in Entra ID (Enterprise applications, app role assignments).')
param displayName string

@description('Host name of the function app, whose Easy Auth signs a browser in to the console: its callback is the registration\'s redirect URI.')
param appHostName string

var appRoles = loadJsonContent('../app-roles.json')
var scopeId = guid(uniqueName, 'user_impersonation')
// Public clients DefaultAzureCredential signs in through: Azure CLI (azd uses the same id) and Azure PowerShell.
var preAuthorizedClientIds = [
  '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
  '1950a258-227b-4e31-a9cf-717495945fc2'
]

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  appRoles: appRoles
  // The console's sign-in: Easy Auth (no client secret) asks Entra ID for an ID token, posted to its callback.
  web: {
    redirectUris: [
      'https://${appHostName}/.auth/login/aad/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: true
      enableAccessTokenIssuance: false
    }
  }
  api: {
    // Tokens carry the application id as their audience (aud), whichever endpoint the client used.
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: scopeId
        value: 'user_impersonation'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Use User Directory Sync as the signed-in user'
        adminConsentDescription: 'Calls the User Directory Sync API as the signed-in user, with that user\'s UserSync role.'
        userConsentDisplayName: 'Use User Directory Sync as you'
        userConsentDescription: 'Calls the User Directory Sync API as you, with your UserSync role.'
      }
    ]
    preAuthorizedApplications: [
      for clientId in preAuthorizedClientIds: {
        appId: clientId
        delegatedPermissionIds: [
          scopeId
        ]
      }
    ]
  }
  owners: {
    relationships: [
      deployer().objectId
    ]
  }
}

// The identifier URI names the application id, which exists only once the registration does: a second update
// of the same registration sets it (Graph updates leave the properties they do not name as they are).
resource appIdentifierUri 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  identifierUris: [
    'api://${app.appId}'
  ]
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  // No token for anyone (user, group member or app) who holds neither role.
  appRoleAssignmentRequired: true
  owners: {
    relationships: [
      deployer().objectId
    ]
  }
}

@description('Application (client) id of the registration: the audience of the API\'s tokens.')
output appId string = appIdentifierUri.appId
@description('Object id of its service principal, which app roles are assigned on.')
output servicePrincipalId string = servicePrincipal.id
@description('Id of the UserSync.Admin app role.')
output adminRoleId string = first(filter(appRoles, role => role.value == 'UserSync.Admin')).id

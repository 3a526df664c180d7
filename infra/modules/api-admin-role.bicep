// Assigns the admin (a user, a group or a service principal) the UserSync.Admin app role of the API's
// registration. A module of its own so that main.bicep can run it after the function app: a service
// principal created moments before is not yet visible everywhere in Entra ID, and an assignment to it
// would fail.

extension microsoftGraphV1

@description('Object id of the API\'s service principal.')
param servicePrincipalId string

@description('Id of the UserSync.Admin app role.')
param appRoleId string

@description('Object id of the admin.')
param adminPrincipalId string

resource adminRole 'Microsoft.Graph/appRoleAssignedTo@v1.0' = {
  resourceId: servicePrincipalId
  appRoleId: appRoleId
  principalId: adminPrincipalId
}

// The Key Vault (RBAC) for the secrets connection profiles name by app setting: the app's identity reads
// them, the admin sets and rotates them.

@description('Region of the vault.')
param location string

@description('Vault name: 3-24 letters, digits and hyphens, starting with a letter, globally unique (main.bicep derives it).')
@minLength(3)
@maxLength(24)
param vaultName string

@description('The app\'s user-assigned managed identity (its resource id names the role assignment).')
param identityId string

@description('That identity\'s principal (object) id.')
param identityPrincipalId string

@description('Object id of the admin (user, group or service principal).')
param adminPrincipalId string

// Built-in role definition ids.
var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identityId, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// No principalType: the admin may be a user, a group or a service principal (an existing one, so no
// replication delay to bridge).
resource adminSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, adminPrincipalId, roles.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: adminPrincipalId
  }
}

output name string = keyVault.name

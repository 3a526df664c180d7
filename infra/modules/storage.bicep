// The app's storage account: identity-based access only (no shared keys), the tables, queues and containers
// the app uses, named from the prefix, and the data-plane roles of the app's managed identity.

@description('Region of the account.')
param location string

@description('Storage account name: 3-24 lowercase letters and digits, globally unique (main.bicep derives it).')
@minLength(3)
@maxLength(24)
param accountName string

@description('USERSYNC_NAME_PREFIX: the tables, queues and containers are named from it.')
param namePrefix string

@description('Days a run\'s files are kept (USERSYNC_ARCHIVE_DAYS).')
param archiveDays int

@description('Container Flex Consumption deploys the app package from.')
param deploymentContainerName string

@description('The app\'s user-assigned managed identity (its resource id names the role assignments).')
param identityId string

@description('That identity\'s principal (object) id.')
param identityPrincipalId string

// The app's own storage, as shared/config/settings.ts storageNames(prefix) derives it. The app also
// creates them at start-up (idempotent); creating them here means a first deployment never races it.
var tableNames = [
  '${namePrefix}Connections'
  '${namePrefix}Runs'
  '${namePrefix}Users'
  '${namePrefix}Audit'
  '${namePrefix}Usernames'
  '${namePrefix}Groups'
  '${namePrefix}Licences'
]
var queueNames = [
  '${namePrefix}-pages'
  '${namePrefix}-reconcile'
  '${namePrefix}-finalise'
]
var containerNames = [
  '${namePrefix}-csv'
  '${namePrefix}-runs'
  deploymentContainerName
]

// Built-in role definition ids.
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: 14
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 14
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for name in containerNames: {
    parent: blobService
    name: name
    properties: {
      publicAccess: 'None'
    }
  }
]

// Runs stage and delete many blobs: with versioning on, keep previous versions for 30 days only.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-previous-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 30
                }
              }
            }
          }
        }
        // A run's files expire after archiveDays (the timer deletes them too; this covers a stopped app), and
        // their previous versions after a day: working files held the source file as read, passwords included.
        {
          name: 'expire-run-files'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${namePrefix}-runs/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: archiveDays
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 1
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    blobService
  ]
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for name in tableNames: {
    parent: tableService
    name: name
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for name in queueNames: {
    parent: queueService
    name: name
  }
]

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(storage.id, identityId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = storage.name
@description('Blob endpoint, ending in a slash.')
output blobEndpoint string = storage.properties.primaryEndpoints.blob

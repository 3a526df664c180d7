// usersync on Azure: one storage account (tables, queues, blobs; no shared keys), a Flex Consumption
// function app (Node 20) running as a user-assigned managed identity, Application Insights on a Log
// Analytics workspace, and a Key Vault (RBAC) whose secrets reach the app as Key Vault references.
//
// Deploy: see infra/README.md. test/infra/settings-crosscheck.test.ts keeps the app settings below in
// step with shared/config/settings.ts (every setting the code reads, with the same defaults).

targetScope = 'resourceGroup'

@description('Region of every resource. Defaults to the resource group\'s region (it must offer Flex Consumption).')
param location string = resourceGroup().location

@description('Names the app\'s tables, queues and containers (the USERSYNC_NAME_PREFIX setting) and prefixes resource names: 2-24 lowercase letters or digits, starting with a letter.')
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
var storageAccountName = '${take(namePrefix, 11)}${token}' // 3-24 lowercase letters and digits
var keyVaultName = 'kv${take(namePrefix, 9)}${token}' // 3-24, starts with a letter
var functionAppName = '${namePrefix}-func-${token}'
var planName = '${namePrefix}-plan-${token}'
var identityName = '${namePrefix}-id-${token}'
var workspaceName = '${namePrefix}-logs-${token}'
var appInsightsName = '${namePrefix}-appi-${token}'
var deploymentContainerName = 'app-package'

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
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
}

// ---------------------------------------------------------------------------------------------
// Storage: identity-based access only
// ---------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
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

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(storage.id, identity.id, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

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
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault: the secrets connection profiles name (by app setting)
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
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
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Versionless references: the platform picks up a new secret version within 24 hours (or on restart).
var keyVaultReferenceSettings = [
  for setting in secretSettings: {
    name: setting.name
    value: '@Microsoft.KeyVault(VaultName=${keyVault.name};SecretName=${setting.secretName})'
  }
]

// ---------------------------------------------------------------------------------------------
// Function app: Flex Consumption, Node 20
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
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (Key Vault Secrets User above).
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
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
        version: '20'
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
          value: storage.name
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
          name: 'USERSYNC_LICENCE_LIMIT'
          value: licenceLimit
        }
        {
          name: 'USERSYNC_TIMER_SCHEDULE'
          value: '0 */1 * * * *'
        }
      ], keyVaultReferenceSettings)
    }
  }
  dependsOn: [
    containers
    tables
    queues
    storageRoleAssignments
    metricsPublisher
    secretsUser
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

@description('Base URL of the HTTP API (function-key protected): POST {apiBaseUrl}/connections/{name}/sync, GET {apiBaseUrl}/runs ...')
output apiBaseUrl string = 'https://${functionApp.properties.defaultHostName}/api'
output functionAppName string = functionApp.name
output storageAccountName string = storage.name
output keyVaultName string = keyVault.name
output identityClientId string = identity.properties.clientId

import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { DefaultAzureCredential } from '@azure/identity';
import type { StorageAccess, StorageNames } from '../config/settings.js';

/**
 * The storage account's clients, made from the AzureWebJobsStorage connection string. This file and
 * the adapters beside it are the only code that imports the storage SDKs.
 */
export interface StorageClients {
  table(name: string): TableClient;
  container(name: string): ContainerClient;
  queues: QueueServiceClient;
}

export function storageClients(access: StorageAccess): StorageClients {
  if (access.kind === 'identity') {
    // In Azure: the managed identity's data-plane roles, no account keys anywhere.
    const credential = new DefaultAzureCredential(access.clientId ? { managedIdentityClientId: access.clientId } : {});
    const endpoint = (service: string) => `https://${access.accountName}.${service}.core.windows.net`;
    const blobs = new BlobServiceClient(endpoint('blob'), credential);
    return {
      table: (name) => new TableClient(endpoint('table'), name, credential),
      container: (name) => blobs.getContainerClient(name),
      queues: new QueueServiceClient(endpoint('queue'), credential),
    };
  }
  const { connectionString } = access;
  // Azurite speaks plain http; in Azure the connection string names https endpoints.
  const insecure = /UseDevelopmentStorage=true|http:\/\//i.test(connectionString);
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  return {
    table: (name) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: insecure }),
    container: (name) => blobs.getContainerClient(name),
    queues: QueueServiceClient.fromConnectionString(connectionString),
  };
}

/** Creates every table, queue and container the app uses (idempotent; run at start-up). */
export async function ensureStorage(clients: StorageClients, names: StorageNames): Promise<void> {
  const tables = [names.connectionsTable, names.runsTable, names.usersTable, names.auditTable, names.usernamesTable, names.groupsTable, names.licencesTable];
  const queues = [names.pagesQueue, names.reconcileQueue, names.finaliseQueue];
  const containers = [names.csvContainer, names.runsContainer];
  await Promise.all([
    ...tables.map((name) => clients.table(name).createTable()),
    ...queues.map((name) => clients.queues.getQueueClient(name).createIfNotExists()),
    ...containers.map((name) => clients.container(name).createIfNotExists()),
  ]);
}

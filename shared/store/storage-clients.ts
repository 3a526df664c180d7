import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { AggregateAuthenticationError, AuthenticationError, CredentialUnavailableError, DefaultAzureCredential } from '@azure/identity';
import type { StorageAccess, StorageNames } from '../config/settings.js';
import { AppError } from '../errors/app-error.js';

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

/** Socket errors that mean the storage endpoint did not answer at all (the SDKs' RestError keeps the code). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'REQUEST_SEND_ERROR']);

/**
 * The storage SDKs' failures an admin can fix, as one sentence saying how: no storage answering (Azurite
 * not started), no Azure credential for identity-based storage, or access refused. Anything else: undefined.
 */
export function storageProblem(error: unknown): AppError | undefined {
  if (error instanceof AggregateAuthenticationError || error instanceof CredentialUnavailableError || error instanceof AuthenticationError) {
    return new AppError(
      'storage-auth-failed',
      'Cannot sign in to the storage account (AzureWebJobsStorage__accountName): no Azure credential worked. Sign in with `az login`, or run where a managed identity with the storage data roles is assigned.',
    );
  }
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode, request } = error as { code?: unknown; statusCode?: unknown; request?: { url?: unknown } };
  const url = typeof request?.url === 'string' && URL.canParse(request.url) ? new URL(request.url) : undefined;
  const where = url ? url.host : 'the configured endpoint';
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    const local = url !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return new AppError(
      'storage-unreachable',
      local
        ? `Cannot reach storage at ${where} — is Azurite running? Start it with \`npm run azurite\`.`
        : `Cannot reach storage at ${where} (${code}) — check AzureWebJobsStorage and the network.`,
    );
  }
  if (statusCode === 401 || statusCode === 403) {
    return new AppError(
      'storage-auth-failed',
      `Storage at ${where} refused access (${statusCode}${typeof code === 'string' ? ` ${code}` : ''}) — check the account key in AzureWebJobsStorage, or give the identity the storage data roles.`,
    );
  }
  return undefined;
}

import type { TableClient } from '@azure/data-tables';
import { parseProfile, newDirectoryKey, readStoredProfile, type ConnectionProfile } from '../../connections/profile.js';
import type { ConnectionState, ConnectionStore, StoredConnection } from '../../sync/ports.js';
import { encodeKey, statusOf, withEtagRetry } from './keys.js';

const PARTITION = 'connection';

interface ConnectionEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  profile: string;
  directoryKey: string;
  createdAt: string;
  updatedAt: string;
  state: string;
}

/** Connection profiles, one row each (names unique case-insensitively), with their scheduling state. */
export class TableConnectionStore implements ConnectionStore {
  constructor(private readonly table: TableClient) {}

  async get(name: string): Promise<StoredConnection | undefined> {
    return (await this.getEntity(name))?.connection;
  }

  async list(): Promise<StoredConnection[]> {
    const connections: StoredConnection[] = [];
    const query = this.table.listEntities<ConnectionEntity>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } });
    for await (const entity of query) connections.push(fromEntity(entity));
    return connections.sort((a, b) => a.profile.name.localeCompare(b.profile.name));
  }

  async put(profile: ConnectionProfile, now: string): Promise<{ connection: StoredConnection; created: boolean }> {
    const valid = parseProfile(profile);
    return withEtagRetry(async () => {
      const existing = await this.getEntity(valid.name);
      if (existing) {
        const { directoryKey, createdAt, state } = existing.connection;
        const connection: StoredConnection = { profile: valid, directoryKey, createdAt, updatedAt: now, state };
        await this.table.updateEntity(toEntity(connection), 'Replace', { etag: existing.etag });
        return { connection, created: false };
      }
      const connection: StoredConnection = {
        profile: valid,
        directoryKey: newDirectoryKey(),
        createdAt: now,
        updatedAt: now,
        state: {},
      };
      await this.table.createEntity(toEntity(connection));
      return { connection, created: true };
    });
  }

  async delete(name: string): Promise<void> {
    try {
      await this.table.deleteEntity(PARTITION, rowKeyOf(name));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  async updateState(
    name: string,
    change: (current: StoredConnection) => ConnectionState | undefined,
  ): Promise<StoredConnection | undefined> {
    return withEtagRetry(async () => {
      const existing = await this.getEntity(name);
      if (!existing) return undefined;
      const state = change(existing.connection);
      if (!state) return existing.connection;
      const connection = { ...existing.connection, state };
      // The state column only: the profile stays exactly as saved (see readStoredProfile).
      await this.table.updateEntity({ partitionKey: PARTITION, rowKey: rowKeyOf(name), state: JSON.stringify(state) }, 'Merge', { etag: existing.etag });
      return connection;
    });
  }

  private async getEntity(name: string): Promise<{ connection: StoredConnection; etag: string } | undefined> {
    try {
      const entity = await this.table.getEntity<ConnectionEntity>(PARTITION, rowKeyOf(name));
      return { connection: fromEntity(entity), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}

function rowKeyOf(name: string): string {
  return encodeKey(name.toLowerCase());
}

function toEntity(connection: StoredConnection): ConnectionEntity {
  return {
    partitionKey: PARTITION,
    rowKey: rowKeyOf(connection.profile.name),
    profile: JSON.stringify(connection.profile),
    directoryKey: connection.directoryKey,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
    state: JSON.stringify(connection.state),
  };
}

function fromEntity(entity: ConnectionEntity): StoredConnection {
  // Validated on every read too: a row edited by hand cannot smuggle in an invalid profile.
  const { profile, problems } = readStoredProfile(JSON.parse(entity.profile));
  return {
    profile,
    directoryKey: entity.directoryKey,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
    state: JSON.parse(entity.state) as ConnectionState,
    ...(problems.length ? { problems } : {}),
  };
}

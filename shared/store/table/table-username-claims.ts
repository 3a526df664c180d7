import type { TableClient } from '@azure/data-tables';
import { bucketLabel, bucketOf } from '../../sync/partitioning.js';
import type { UsernameClaims, UsernameOwner } from '../ports.js';
import { encodeKey, statusOf } from './keys.js';

interface ClaimEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  username: string;
  directoryKey: string;
  key: string;
  connection: string;
}

/** One row per username (lower-cased), spread over 256 partitions; the row's existence is the claim. */
export class TableUsernameClaims implements UsernameClaims {
  constructor(private readonly table: TableClient) {}

  async claim(username: string, owner: UsernameOwner): Promise<{ won: true } | { won: false; owner: UsernameOwner }> {
    try {
      await this.table.createEntity({ ...keysOf(username), username, ...owner });
      return { won: true };
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    const holder = await this.find(username);
    if (!holder) return this.claim(username, owner); // released in between: try again
    return sameOwner(holder, owner) ? { won: true } : { won: false, owner: holder };
  }

  async release(username: string, owner: UsernameOwner): Promise<void> {
    const current = await this.get(username);
    if (!current || !sameOwner(ownerOf(current), owner)) return;
    try {
      await this.table.deleteEntity(current.partitionKey, current.rowKey, { etag: current.etag });
    } catch (error) {
      // Someone changed it meanwhile: it is no longer ours to release.
      if (statusOf(error) !== 412 && statusOf(error) !== 404) throw error;
    }
  }

  async transfer(username: string, from: UsernameOwner, to: UsernameOwner): Promise<boolean> {
    const current = await this.get(username);
    if (!current || !sameOwner(ownerOf(current), from)) return Boolean(current && sameOwner(ownerOf(current), to));
    try {
      await this.table.updateEntity({ ...keysOf(username), username: current.username, ...to }, 'Replace', { etag: current.etag });
      return true;
    } catch (error) {
      if (statusOf(error) === 412) return false;
      throw error;
    }
  }

  async find(username: string): Promise<UsernameOwner | undefined> {
    const entity = await this.get(username);
    return entity ? ownerOf(entity) : undefined;
  }

  private async get(username: string): Promise<ClaimEntity | undefined> {
    const { partitionKey, rowKey } = keysOf(username);
    try {
      return await this.table.getEntity<ClaimEntity>(partitionKey, rowKey);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}

function keysOf(username: string): { partitionKey: string; rowKey: string } {
  const normalised = username.toLowerCase();
  return { partitionKey: `u${bucketLabel(bucketOf(normalised))}`, rowKey: encodeKey(normalised) };
}

function ownerOf(entity: ClaimEntity): UsernameOwner {
  return { directoryKey: entity.directoryKey, key: entity.key, connection: entity.connection };
}

function sameOwner(a: UsernameOwner, b: UsernameOwner): boolean {
  return a.directoryKey === b.directoryKey && a.key === b.key;
}

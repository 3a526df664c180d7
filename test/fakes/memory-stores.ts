import { Readable } from 'node:stream';
import type { ClaimOutcome, FileInfo, FileStore, LicenceLedger, UsernameClaim, UsernameClaims, UsernameOwner, UserStore, VersionedUser } from '../../shared/sync/ports.js';
import type { StoredUser } from '../../shared/sync/model.js';
import { shardOf } from '../../shared/sync/rules/partitioning.js';

/*
 * In-memory stand-ins for the storage ports, for property tests that run the real use cases thousands
 * of times (Azurite takes milliseconds a request). They pass the same contract tests as the Azure
 * adapters (test/store/file-store.test.ts, user-store.test.ts, username-claims.test.ts).
 */

export class MemoryFileStore implements FileStore {
  private readonly files = new Map<string, { content: Buffer; metadata: Record<string, string> }>();

  async put(path: string, content: Buffer | string, metadata: Record<string, string> = {}): Promise<void> {
    this.files.set(path, { content: Buffer.from(content), metadata: { ...metadata } });
  }

  async putStream(path: string, content: Readable): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of content) chunks.push(Buffer.from(chunk as Buffer));
    const body = Buffer.concat(chunks);
    await this.put(path, body);
    return body.length;
  }

  async putIfAbsent(path: string, content: Buffer | string): Promise<boolean> {
    if (this.files.has(path)) return false;
    await this.put(path, content);
    return true;
  }

  async get(path: string): Promise<Buffer | undefined> {
    const file = this.files.get(path);
    return file && Buffer.from(file.content);
  }

  async getRange(path: string, offset: number, count: number): Promise<Buffer | undefined> {
    return (await this.get(path))?.subarray(offset, offset + count);
  }

  async read(path: string, offset = 0): Promise<Readable | undefined> {
    const content = await this.get(path);
    return content && Readable.from(content.length > offset ? [content.subarray(offset)] : []);
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(path);
  }

  async list(prefix: string): Promise<FileInfo[]> {
    return [...this.files]
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, file]) => ({ path, metadata: { ...file.metadata } }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const paths = (await this.list(prefix)).map((file) => file.path);
    for (const path of paths) this.files.delete(path);
    return paths.length;
  }

  async deleteBefore(end: string): Promise<number> {
    const paths = [...this.files.keys()].filter((path) => path < end);
    for (const path of paths) this.files.delete(path);
    return paths.length;
  }
}

export class MemoryUserStore implements UserStore {
  /** Rows by directory key, then source key; stored as JSON, as a table row keeps no undefined field. */
  private readonly rows = new Map<string, Map<string, string>>();
  /** Each row's ETag: a new one with every write, as Table Storage gives. */
  private readonly etags = new Map<string, string>();
  private writes = 0;

  async listShard(directoryKey: string, shard: number, shards?: number): Promise<StoredUser[]> {
    return [...(this.rows.get(directoryKey) ?? new Map<string, string>())].filter(([key]) => shardOf(key, shards) === shard).map(([, row]) => parse(row));
  }

  async get(directoryKey: string, key: string): Promise<StoredUser | undefined> {
    const row = this.rows.get(directoryKey)?.get(key);
    return row === undefined ? undefined : parse(row);
  }

  async write(users: readonly StoredUser[]): Promise<void> {
    for (const user of users) {
      this.directory(user.directoryKey).set(user.key, JSON.stringify(user));
      this.etags.set(rowId(user.directoryKey, user.key), `W/"${++this.writes}"`);
    }
  }

  async getVersioned(directoryKey: string, key: string): Promise<VersionedUser | undefined> {
    const user = await this.get(directoryKey, key);
    return user && { user, etag: this.etags.get(rowId(directoryKey, key))! };
  }

  async replace(user: StoredUser, condition: { ifMatch: string } | { ifAbsent: true }): Promise<{ written: true; etag: string } | { written: false; changed: true }> {
    const current = this.etags.get(rowId(user.directoryKey, user.key));
    if ('ifMatch' in condition ? current !== condition.ifMatch : current !== undefined) return { written: false, changed: true };
    await this.write([user]);
    return { written: true, etag: this.etags.get(rowId(user.directoryKey, user.key))! };
  }

  async setManagerLinks(directoryKey: string, links: readonly { key: string; managerKey?: string }[]): Promise<void> {
    for (const { key, managerKey } of links) {
      const stored = await this.get(directoryKey, key);
      if (!stored) continue;
      const { managerKey: _old, ...user } = stored;
      await this.write([managerKey ? { ...user, managerKey } : user]);
    }
  }

  async delete(directoryKey: string, key: string): Promise<void> {
    this.rows.get(directoryKey)?.delete(key);
    this.etags.delete(rowId(directoryKey, key));
  }

  async *list(directoryKey?: string): AsyncIterable<StoredUser> {
    for (const [key, directory] of this.rows) {
      if (directoryKey === undefined || key === directoryKey) for (const row of directory.values()) yield parse(row);
    }
  }

  private directory(directoryKey: string): Map<string, string> {
    let directory = this.rows.get(directoryKey);
    if (!directory) this.rows.set(directoryKey, (directory = new Map()));
    return directory;
  }
}

function rowId(directoryKey: string, key: string): string {
  return `${directoryKey}\u0000${key}`;
}

function parse(row: string): StoredUser {
  return JSON.parse(row) as StoredUser;
}

export class MemoryUsernameClaims implements UsernameClaims {
  /** Claims by lower-cased name, keeping the name as first claimed. */
  private readonly claims = new Map<string, UsernameClaim>();

  async claim(username: string, owner: UsernameOwner): Promise<ClaimOutcome> {
    const holder = this.claims.get(username.toLowerCase())?.owner;
    if (!holder) this.claims.set(username.toLowerCase(), { username, owner: { ...owner } });
    return !holder || sameOwner(holder, owner) ? { won: true } : { won: false, owner: { ...holder } };
  }

  async claimMany(claims: readonly { username: string; owner: UsernameOwner }[]): Promise<ClaimOutcome[]> {
    const outcomes: ClaimOutcome[] = [];
    for (const { username, owner } of claims) outcomes.push(await this.claim(username, owner));
    return outcomes;
  }

  async release(username: string, owner: UsernameOwner): Promise<void> {
    const holder = this.claims.get(username.toLowerCase())?.owner;
    if (holder && sameOwner(holder, owner)) this.claims.delete(username.toLowerCase());
  }

  async transfer(username: string, from: UsernameOwner, to: UsernameOwner): Promise<boolean> {
    const claim = this.claims.get(username.toLowerCase());
    if (!claim || !sameOwner(claim.owner, from)) return Boolean(claim && sameOwner(claim.owner, to));
    this.claims.set(username.toLowerCase(), { username: claim.username, owner: { ...to } });
    return true;
  }

  async find(username: string): Promise<UsernameOwner | undefined> {
    const holder = this.claims.get(username.toLowerCase())?.owner;
    return holder && { ...holder };
  }

  async *list({ after, directoryKey }: { after?: string; directoryKey?: string } = {}): AsyncIterable<UsernameClaim> {
    const from = after?.toLowerCase();
    const claims = [...this.claims]
      .filter(([name, claim]) => (from === undefined || name > from) && (directoryKey === undefined || claim.owner.directoryKey === directoryKey))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [, claim] of claims) yield { username: claim.username, owner: { ...claim.owner } };
  }
}

function sameOwner(a: UsernameOwner, b: UsernameOwner): boolean {
  return a.directoryKey === b.directoryKey && a.key === b.key;
}

/** The ledger's rule: each operation id takes or frees seats once, and never more than the limit allows. */
export class MemoryLicenceLedger implements LicenceLedger {
  private count = 0;
  private readonly operations = new Map<string, number>();

  constructor(readonly limit: number | undefined) {}

  async take(operationId: string, wanted: number): Promise<number> {
    if (wanted <= 0) return 0;
    return this.change(operationId, () => (this.limit === undefined ? wanted : Math.max(0, Math.min(wanted, this.limit - this.count))));
  }

  async release(operationId: string, count: number): Promise<void> {
    if (count > 0) this.change(operationId, () => -Math.min(count, this.count));
  }

  async used(): Promise<number> {
    return this.count;
  }

  async reset(used: number): Promise<void> {
    this.count = used;
    this.operations.clear();
  }

  private change(operationId: string, delta: () => number): number {
    const done = this.operations.get(operationId);
    if (done !== undefined) return Math.abs(done);
    const amount = delta();
    this.operations.set(operationId, amount);
    this.count += amount;
    return Math.abs(amount);
  }
}

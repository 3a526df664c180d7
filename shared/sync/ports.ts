import type { Readable } from 'node:stream';
import type { Connection, ConnectionProfile, FieldProblem } from '../connections/profile.js';
import type { StoredUser } from './model.js';
import type { PageRecord, Run, ShardResult } from './run-model.js';

/** Scheduling state kept beside a profile; only the sync changes it. */
export interface ConnectionState {
  /** The run holding the profile's single active-run slot. */
  activeRunId?: string;
  activeRunSince?: string;
  lastRunId?: string;
  lastRunStartedAt?: string;
  lastRunEndedAt?: string;
  lastRunStatus?: string;
  lastManualRunAt?: string;
  /** Set by "reset": the scheduler starts a run on its next tick. */
  resetRequestedAt?: string;
  /** Where an incremental run resumes (a Graph delta link), from the last successful run. */
  checkpoint?: string;
  lastFullRunAt?: string;
  /** The last daily slot reported as skipped (a manual sync replaced it). */
  lastSkippedSlot?: string;
}

export interface StoredConnection extends Connection {
  state: ConnectionState;
  /**
   * Rules the stored profile breaks because it was saved before they existed (a URL with credentials,
   * a pattern RE2 cannot run): it lists and shows, but nothing uses it until it is saved again.
   */
  problems?: FieldProblem[];
}

export interface ConnectionStore {
  get(name: string): Promise<StoredConnection | undefined>;
  list(): Promise<StoredConnection[]>;
  /** Removes a profile (its users stay, disabled: see deleteConnection). */
  delete(name: string): Promise<void>;
  /** Creates or replaces a profile, keeping its directory key and state. */
  put(profile: ConnectionProfile, now: string): Promise<{ connection: StoredConnection; created: boolean }>;
  /**
   * Optimistic read-modify-write of the state (ETag): `change` sees the latest state and returns the
   * new one, or undefined to leave it. Retries on a concurrent write. Returns what was stored.
   */
  updateState(
    name: string,
    change: (current: StoredConnection) => ConnectionState | undefined,
  ): Promise<StoredConnection | undefined>;
}

export interface RunStore {
  create(run: Run): Promise<void>;
  get(runId: string): Promise<Run | undefined>;
  /** Optimistic read-modify-write (ETag) with retries; `change` returns undefined to leave the run. */
  update(runId: string, change: (current: Run) => Run | undefined): Promise<Run | undefined>;
  /** When the run row was last written (the storage's own clock): how the watchdog tells a stalled run. */
  lastWrittenAt(runId: string): Promise<Date | undefined>;
  /** Newest first. */
  list(filter: { connection?: string; limit: number }): Promise<Run[]>;
  /** Stores a page record (of its chain) unless one exists; returns the stored one either way. */
  putPage(runId: string, page: PageRecord): Promise<PageRecord>;
  getPage(runId: string, chain: string, page: number): Promise<PageRecord | undefined>;
  putShardResult(runId: string, result: ShardResult): Promise<void>;
  listShardResults(runId: string): Promise<ShardResult[]>;
}

export interface UserStore {
  /** Every user of one shard (of `shards`, default 16) of partitions (see sync/rules/partitioning.ts): one partition-key range query. */
  listShard(directoryKey: string, shard: number, shards?: number): Promise<StoredUser[]>;
  get(directoryKey: string, key: string): Promise<StoredUser | undefined>;
  /** Writes users (insert or replace), batched per partition. */
  write(users: readonly StoredUser[]): Promise<void>;
  /** One user and its version (ETag): changes with every write of the row. */
  getVersioned(directoryKey: string, key: string): Promise<VersionedUser | undefined>;
  /**
   * Optimistic write of one user: only if its row is still at version `ifMatch`, or, `ifAbsent`, has no row.
   * `changed`: another write came first (or the row was created, or removed, meanwhile); nothing was written.
   */
  replace(user: StoredUser, condition: { ifMatch: string } | { ifAbsent: true }): Promise<{ written: true; etag: string } | { written: false; changed: true }>;
  /** Sets (or clears) the resolved manager link of users, touching no other field. */
  setManagerLinks(directoryKey: string, links: readonly { key: string; managerKey?: string }[]): Promise<void>;
  /** Removes one user row (only adoption moves a user; sync never deletes). */
  delete(directoryKey: string, key: string): Promise<void>;
  /** All users of a directory, or of every directory, partition by partition. */
  list(directoryKey?: string): AsyncIterable<StoredUser>;
}

export interface VersionedUser {
  user: StoredUser;
  etag: string;
}

/** A stored file's path and the metadata written with it. */
export interface FileInfo {
  path: string;
  metadata: Record<string, string>;
}

/** Files kept by path in one container: uploaded CSVs, archived run inputs, staged pages, plans. */
export interface FileStore {
  /** Writes content and its metadata (lower-case names, ASCII values) in one atomic step. */
  put(path: string, content: Buffer | string, metadata?: Record<string, string>): Promise<void>;
  /** Streams content in without holding it all; returns the byte count. */
  putStream(path: string, content: Readable): Promise<number>;
  /** Writes only when the path is free; returns false when something is already there. */
  putIfAbsent(path: string, content: Buffer | string): Promise<boolean>;
  get(path: string): Promise<Buffer | undefined>;
  /** `count` bytes from `offset`. Undefined when the file does not exist. */
  getRange(path: string, offset: number, count: number): Promise<Buffer | undefined>;
  /** Streams from a byte offset to the end. Undefined when the file does not exist. */
  read(path: string, offset?: number): Promise<Readable | undefined>;
  exists(path: string): Promise<boolean>;
  /** Files whose path starts with `prefix`, sorted by path, with their metadata. */
  list(prefix: string): Promise<FileInfo[]>;
  deletePrefix(prefix: string): Promise<number>;
  /** Deletes every file whose path sorts before `end`, reading no further than that; returns the count. */
  deleteBefore(end: string): Promise<number>;
}

/** Who a username belongs to: a directory's user, or a local account (directoryKey `local`). */
export interface UsernameOwner {
  directoryKey: string;
  key: string;
  /** The profile's name, or `local` for a local account: for messages. */
  connection: string;
}

export type ClaimOutcome = { won: true } | { won: false; owner: UsernameOwner };

/** A held username, as written when it was claimed, and its holder. */
export interface UsernameClaim {
  username: string;
  owner: UsernameOwner;
}

/**
 * Usernames are unique across all directories and local accounts, case-insensitively. A claim is an
 * atomic insert-if-absent, so two syncs racing for one name cannot both win.
 */
export interface UsernameClaims {
  /** Claims the name for `owner`; a name the owner already holds is won again. */
  claim(username: string, owner: UsernameOwner): Promise<ClaimOutcome>;
  /**
   * Claims many names at once, as `claim` would one after another (a name asked for twice in one call
   * goes to the first asker); outcomes in the order asked. Lets a store batch the inserts.
   */
  claimMany(claims: readonly { username: string; owner: UsernameOwner }[]): Promise<ClaimOutcome[]>;
  /** Releases the name if `owner` holds it. */
  release(username: string, owner: UsernameOwner): Promise<void>;
  /** Hands a name from its current holder to another (adoption), only if `from` still holds it. */
  transfer(username: string, from: UsernameOwner, to: UsernameOwner): Promise<boolean>;
  find(username: string): Promise<UsernameOwner | undefined>;
  /**
   * Held names in ascending order of the lower-cased name, after `after` (lower-cased) when given, only
   * `directoryKey`'s when given. Reads lazily: a caller that stops early has read little.
   */
  list(options?: { after?: string; directoryKey?: string }): AsyncIterable<UsernameClaim>;
}

/** A group of the intranet: created by a directory's sync (never deleted by it) or by an admin (local). */
export interface Group {
  name: string;
  /** The directory key of the profile whose sync created it, or `local`. */
  origin: string;
  connection: string;
  createdAt: string;
  /** A group a `scim` connection pushed: its id there, stable across renames (only the group's current name holds it). */
  id?: string;
  /** The client's own id of that group, as it sent it. */
  externalId?: string;
}

export interface GroupStore {
  /** Creates the group unless one of that name (case-insensitively) exists; true when it created it. */
  createIfAbsent(group: Group): Promise<boolean>;
  /** Creates or replaces the group of that name (case-insensitively). */
  put(group: Group): Promise<void>;
  get(name: string): Promise<Group | undefined>;
  list(): Promise<Group[]>;
  /** Removes a group (an admin's local one: a sync never deletes groups); no error when it is gone already. */
  delete(name: string): Promise<void>;
}

/**
 * The licence ledger: how many users are active against the global limit. Every change is keyed by
 * an operation id and applied once, so a redelivered job cannot take or free seats twice.
 */
export interface LicenceLedger {
  /** The limit (undefined: unlimited). */
  readonly limit: number | undefined;
  /** Takes up to `wanted` seats; returns how many it got (the same answer again for a repeated id). */
  take(operationId: string, wanted: number): Promise<number>;
  /** Frees seats (once per id). */
  release(operationId: string, count: number): Promise<void>;
  /** Seats in use now. */
  used(): Promise<number>;
  /** Replaces the count with a recount of active users. */
  reset(used: number): Promise<void>;
}

export type JobQueueName = 'pages' | 'reconcile' | 'finalise';

export interface SendOptions {
  /** Seconds before the message can be received (a page waiting out its directory's throttling); at most 7 days. */
  delaySeconds?: number;
}

export interface JobQueue {
  send(queue: JobQueueName, message: unknown, options?: SendOptions): Promise<void>;
}

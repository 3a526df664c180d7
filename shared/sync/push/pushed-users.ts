import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import type { AuditStamp } from '../../audit/audit-log.js';
import type { ScimProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import type { SourceUser, StoredUser } from '../model.js';
import { applyDecisions, type RunRef } from '../pipeline/apply-decisions.js';
import { claimUsernames, grantLicences } from '../pipeline/shard-plan.js';
import type { VersionedUser } from '../ports.js';
import { decideEntries, disableDecision, type DecisionContext, type PlannedDecision } from '../rules/decide.js';
import { selectGroups } from '../rules/groups.js';
import { activationOf } from '../rules/licences.js';
import { newRunId } from '../run-model.js';
import type { PushedUser, PushedUserInput } from './pushed-directory.js';

/**
 * One pushed user's change, as a shard's plan makes it for one key — decide, claim the username, take a
 * licence — then written by the one write path only if the user is still as read (its ETag). A request
 * that lost that race reads the user again and decides again (`change` sees the newer user), so of
 * concurrent changes none is lost and each is written, and audited, once.
 */

/**
 * Tries before a busy user is given up on (the client retries later). Each lost race means another request
 * was written, so 50 requests racing for one user all land well within this, helped by the backoff.
 */
export const MAX_TRIES = 50;

/** The `scim` connection a pushed change writes to. */
export interface PushTarget {
  deps: SyncDependencies;
  profile: ScimProfile;
  directoryKey: string;
}

/** One request: its run reference (one per request) and who and when. */
export interface PushRequest {
  run: RunRef;
  stamp: AuditStamp;
}

export function pushRequest(target: PushTarget): PushRequest {
  const now = target.deps.clock();
  return {
    run: { runId: `scim-${newRunId(now, randomBytes(3).toString('hex'))}`, connection: target.profile.name, directoryKey: target.directoryKey },
    stamp: { actor: `scim:${target.profile.name}`, at: now.toISOString() },
  };
}

/** `version`: a digest of the stored user, so a listing (which reads no ETags) answers the same one as a read. */
export function pushedUserOf(user: StoredUser): PushedUser {
  return { id: user.key, ...(user.externalId ? { externalId: user.externalId } : {}), user, active: user.status !== 'disabled', version: versionOf(user) };
}

export function versionOf(value: unknown): string {
  return `W/"${createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 22)}"`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A user's change: undefined when the user is already as asked (nothing written). */
export type UserChange = (current: VersionedUser | undefined) => Promise<{ source: SourceUser; externalId?: string } | { disable: true } | { activate: true } | undefined>;

/**
 * Reads the user, asks `change` what it should become, decides and writes it if the user is unchanged since
 * read; on a lost race, again with the newer user. Answers the user as stored (undefined: there is none).
 */
export async function changeUser(target: PushTarget, request: PushRequest, id: string, change: UserChange): Promise<PushedUser | undefined> {
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const current = await target.deps.users.getVersioned(target.directoryKey, id);
    const wanted = await change(current);
    if (!wanted) return current && pushedUserOf(current.user);
    const outcome =
      'disable' in wanted ? await disableOnce(target, request, current!) : 'activate' in wanted ? await activateOnce(target, request, current!) : await writeOnce(target, request, id, current, wanted);
    if (outcome === 'changed') {
      // Random backoff, growing: racers that lost together do not all read again at the same instant.
      await setTimeout(Math.random() * Math.min(100, 5 * 2 ** attempt));
      continue;
    }
    // What a run's finalise does for the blocked users in scope: one pushed active is given a licence if one is free.
    if ('source' in wanted && wanted.source.active && outcome.user.status === 'blocked') return (await activate(target, request, id)) ?? outcome;
    return outcome;
  }
  throw new AppError('user-busy', `The user "${id}" was changed by other requests ${MAX_TRIES} times while this one was applied; send it again.`, { transient: true });
}

/** What a pushed input becomes as a source user: its groups are the stored ones (groups change through groups). */
export function sourceOf(target: PushTarget, input: PushedUserInput, stored: StoredUser | undefined, groups = stored?.groups): SourceUser {
  const { groups: _ignored, password: _none, partial: _never, ...user } = input.user;
  if (!target.profile.orgChart) delete user.manager;
  const selected = selectGroups(target.profile.groups, groups);
  return { ...user, ...(selected ? { groups: selected } : {}) };
}

async function writeOnce(
  target: PushTarget,
  request: PushRequest,
  id: string,
  current: VersionedUser | undefined,
  wanted: { source: SourceUser; externalId?: string },
): Promise<PushedUser | 'changed'> {
  const { deps, directoryKey, profile } = target;
  const context: DecisionContext = {
    directoryKey,
    connection: profile.name,
    now: request.stamp.at,
    requiresPassword: false,
    hasDefaultPassword: false,
    keepLocalGroups: profile.groups.keepLocalGroups,
  };
  const externalId = current?.user.externalId ?? wanted.externalId;
  const ref = `SCIM ${externalId === undefined ? 'id' : 'externalId'} ${id}`;
  const [decided] = decideEntries(id, [{ kind: 'user', key: id, ref, user: wanted.source }], current?.user, context);
  if (!decided || decided.action === 'unchanged') return pushedUserOf(await linkedLate(target, current!.user));
  if (decided.action === 'skip') throw new AppError('user-invalid', decided.detail, { details: { reason: decided.reason } });
  const stored = new Map(current ? [[id, current.user]] : []);
  const [claimed] = await claimUsernames(deps, { directoryKey, connection: profile.name, dryRun: false }, [decided], stored);
  if (claimed?.action === 'conflict') {
    // Audited as a run audits it; answered as the client's own duplicate when the holder is this directory.
    await applyDecisions(deps, request.run, [claimed], request.stamp);
    const ours = !claimed.holder.local && claimed.holder.connection === profile.name;
    if (ours) throw new AppError('user-exists', `"${profile.name}" already has a user with the username "${claimed.username}".`, { details: { username: claimed.username } });
    throw new AppError('username-taken', claimed.detail, { details: { connection: claimed.holder.connection, reason: claimed.reason } });
  }
  const operationId = seatOperation(request, id, current);
  const [planned] = await grantLicences(deps, { operationId, dryRun: false }, [claimed!]);
  if (!planned || !('user' in planned)) throw new Error(`A pushed change of "${id}" decided ${planned?.action}.`);
  if (externalId !== undefined) planned.user.externalId = externalId;
  await linkManager(target, planned.user);
  return write(target, request, planned, current, operationId);
}

/** A disable of a user `change` found (an already disabled user is answered as it is). */
async function disableOnce(target: PushTarget, request: PushRequest, current: VersionedUser): Promise<PushedUser | 'changed'> {
  if (current.user.status === 'disabled') return pushedUserOf(current.user);
  const decision = disableDecision(current.user, { ref: current.user.sourceRef, reason: 'removed-from-directory', at: request.stamp.at });
  return write(target, request, decision, current, seatOperation(request, current.user.key, current));
}

/**
 * The licence operation of one try of a request: keyed by the user's version, so a try takes (or frees) a
 * seat once. Short: the ledger row remembers the newest ids that fit in one string property.
 */
function seatOperation(request: PushRequest, id: string, current: VersionedUser | undefined): string {
  return `scim:${createHash('sha256').update(`${request.run.runId}\u0000${id}\u0000${current?.etag ?? 'new'}`).digest('base64url').slice(0, 16)}`;
}

function activate(target: PushTarget, request: PushRequest, id: string): Promise<PushedUser | undefined> {
  return changeUser(target, request, id, async (current) => (current?.user.status === 'blocked' ? { activate: true } : undefined));
}

/** A blocked user activated if a licence is free (else answered as it is). */
async function activateOnce(target: PushTarget, request: PushRequest, current: VersionedUser): Promise<PushedUser | 'changed'> {
  const operationId = seatOperation(request, current.user.key, current);
  if ((await target.deps.licences.take(operationId, 1)) === 0) return pushedUserOf(current.user);
  return write(target, request, { ...activationOf(current.user, request.stamp.at), seat: 1 }, current, operationId);
}

/** A seat a disable freed goes to the connection's oldest blocked user, as a run's finalise hands them out. */
async function activateOldestBlocked(target: PushTarget, request: PushRequest): Promise<void> {
  if (target.deps.licences.limit === undefined) return; // no limit: no one is blocked
  let oldest: StoredUser | undefined;
  for await (const user of target.deps.users.list(target.directoryKey)) {
    if (user.status === 'blocked' && (!oldest || user.createdAt < oldest.createdAt || (user.createdAt === oldest.createdAt && user.key < oldest.key))) oldest = user;
  }
  if (oldest) await activate(target, request, oldest.key);
}

/** The one write path, writing only over the version read; a seat taken for a write that lost is given back. */
async function write(target: PushTarget, request: PushRequest, decision: PlannedDecision, current: VersionedUser | undefined, operationId: string): Promise<PushedUser | 'changed'> {
  const { deps } = target;
  const written = await applyDecisions(deps, request.run, [decision], request.stamp, async ([user]) => (await deps.users.replace(user!, current ? { ifMatch: current.etag } : { ifAbsent: true })).written);
  const seat = 'seat' in decision ? decision.seat : undefined;
  if (!written) {
    if (seat === 1) await deps.licences.release(`${operationId}:lost`, 1);
    return 'changed';
  }
  if (seat === -1) {
    await deps.licences.release(`${operationId}:freed`, 1);
    await activateOldestBlocked(target, request);
  }
  if (!('user' in decision)) throw new Error('A pushed write without a user.');
  return pushedUserOf(decision.user);
}

/** The input's manager is our key of the manager: linked at once when that user is in this directory (no finalise runs). */
async function linkManager(target: PushTarget, user: StoredUser): Promise<void> {
  delete user.managerKey;
  const manager = user.manager;
  if (!manager || manager === user.key) return;
  if (await target.deps.users.get(target.directoryKey, manager)) user.managerKey = manager;
}

/**
 * A report pushed before its manager keeps the manager's id unlinked; when the client sends it again once the
 * manager exists, the link is made then, as finalise would make it.
 */
async function linkedLate(target: PushTarget, user: StoredUser): Promise<StoredUser> {
  if (!user.manager || user.managerKey !== undefined) return user;
  const linked = { ...user };
  await linkManager(target, linked);
  if (linked.managerKey === undefined) return user;
  await target.deps.users.setManagerLinks(target.directoryKey, [{ key: user.key, managerKey: linked.managerKey }]);
  return linked;
}

export function notFound(target: PushTarget, id: string): AppError {
  return new AppError('user-not-found', `"${target.profile.name}" has no user with the id "${id}".`);
}

export function newUserId(input: PushedUserInput): string {
  return input.externalId ?? randomUUID();
}

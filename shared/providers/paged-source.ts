import type { z } from 'zod';
import type { ConnectionProfile } from '../connections/profile.js';
import { AppError } from '../errors/app-error.js';
import type { DirectorySource, SourcePage } from '../sync/directory-source.js';
import { MAIN_CHAIN, type Run } from '../sync/run-model.js';

/** A cursor names the phase of the listing it is in; the rest is that phase's own bookmark. */
type PhasedCursor = { phase: string };

/** Per phase: reads one page from the cursor, with the entries and the cursor of the page after. */
export type Phases<Cursor extends PhasedCursor> = {
  [P in Cursor['phase']]: (cursor: Extract<Cursor, { phase: P }>, ref: string) => Promise<SourcePage>;
};

/** A directory's listing, as data: its cursor, where runs start, and its phases. */
export interface Listing<Cursor extends PhasedCursor> {
  readonly cursor: z.ZodType<Cursor>;
  /** Where a full run read as the one chain `main` starts (runs started before listings had chains). */
  readonly start: Cursor;
  /** Where an incremental run starts, from the checkpoint the last successful run left. */
  resume(checkpoint: string | undefined): Cursor;
  /** What a full run records with its first page: the next incremental run reads what changed since. */
  checkpoint(): Promise<string>;
  readonly phases: Phases<Cursor>;
}

/** The profile of a directory that scopes users by groups an admin selects. */
type GroupScopedProfile = ConnectionProfile & { selectedGroups: string[] };

/**
 * The skeleton of a directory read through its API (Graph, Okta), one page per page job: parse the cursor,
 * read one page of the phase it names, pass on the next cursor (null: the end of the chain); a full run's
 * first page (of its first chain) carries the checkpoint. A source gives its client, its listing, how its
 * failures read and its full run's chains: each starts in a phase and ends where that phase does, so the
 * phases a single chain would read one after the other are read at once.
 */
export abstract class PagedDirectorySource<Profile extends GroupScopedProfile, Client, Cursor extends PhasedCursor> implements DirectorySource {
  readonly requiresPassword = false;
  readonly listsUsersRepeatedly = true;
  readonly supportsIncremental = true;
  /** What the directory calls the groups an admin selects (in the refusal when none is). */
  protected abstract readonly selectedGroupKind: string;

  /** The profile, if it is one of this directory's; an AppError otherwise. */
  protected abstract profileOf(profile: ConnectionProfile): Profile;
  protected abstract client(profile: Profile): Client | Promise<Client>;
  protected abstract listing(client: Client, profile: Profile): Listing<Cursor>;
  /** A full run's chains and where each starts, in the order they start; the first carries the checkpoint. */
  protected abstract chainStarts(profile: Profile): Record<string, Cursor>;
  /** Chains earlier versions started that this one no longer does, so that their runs still finish. */
  protected retiredChainStarts(_profile: Profile): Record<string, Cursor> {
    return {};
  }
  /** A failure as an AppError an admin can act on, never holding a secret. */
  protected abstract failure(error: unknown, profile: Profile): AppError;
  abstract testConnection(profile: ConnectionProfile): Promise<{ detail: string; warnings: string[] }>;

  chains(run: Run): string[] {
    return run.kind === 'incremental' ? [MAIN_CHAIN] : Object.keys(this.chainStarts(this.profileOf(run.profile)));
  }

  async readPage(request: { run: Run; chain?: string; page: number; cursor: unknown }): Promise<SourcePage> {
    const { run, chain = MAIN_CHAIN } = request;
    const profile = this.profileOf(run.profile);
    if (!profile.selectedGroups.length) {
      throw new AppError('no-groups-selected', `No ${this.selectedGroupKind} is selected for "${profile.name}", so no users sync (select at least one group).`);
    }
    const starts = this.chainStarts(profile);
    const start = chain === MAIN_CHAIN ? undefined : (starts[chain] ?? this.retiredChainStarts(profile)[chain]);
    if (chain !== MAIN_CHAIN && !start) throw new AppError('message-invalid', `The listing of "${profile.name}" has no chain "${chain}".`);
    return this.withClient(profile, async (client) => {
      const listing = this.listing(client, profile);
      const ref = chain === MAIN_CHAIN ? `page ${request.page}` : `${chain} page ${request.page}`;
      const first = request.cursor === null || request.cursor === undefined;
      if (first && run.kind === 'incremental') return readPhase(listing, listing.resume(run.checkpoint), ref);
      const page = await readPhase(listing, first ? (start ?? listing.start) : listing.cursor.parse(request.cursor), ref);
      // A chain ends where its phase does: the next phase is another chain's.
      const next = start && page.next && (page.next as PhasedCursor).phase !== start.phase ? null : page.next;
      const checkpointed = first && (chain === MAIN_CHAIN || chain === Object.keys(starts)[0]);
      return { ...page, next, ...(checkpointed ? { checkpoint: await listing.checkpoint() } : {}) };
    });
  }

  /** Runs `work` with the profile's client; what it throws becomes the directory's AppError. */
  protected async withClient<T>(profile: Profile, work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.client(profile);
    try {
      return await work(client);
    } catch (error) {
      throw this.failure(error, profile);
    }
  }
}

/** The checkpoint the last successful run left, read with the source's schema; unreadable, it is expired. */
export function readCheckpoint<T>(schema: z.ZodType<T>, text: string | undefined, profile: ConnectionProfile): T {
  try {
    return schema.parse(JSON.parse(text ?? ''));
  } catch {
    throw new AppError('checkpoint-expired', `The checkpoint of "${profile.name}" cannot be read.`);
  }
}

function readPhase<Cursor extends PhasedCursor>(listing: Listing<Cursor>, cursor: Cursor, ref: string): Promise<SourcePage> {
  // TypeScript cannot tie a phase's reader to its own cursor type here; the record's keys guarantee the pairing.
  const read = listing.phases[cursor.phase as Cursor['phase']] as (cursor: Cursor, ref: string) => Promise<SourcePage>;
  return read(cursor, ref);
}

import type { ConnectionProfile } from '../connections/profile.js';
import type { Run } from './run-model.js';
import type { SourceEntry } from './model.js';

/**
 * A directory we read users from, one page at a time. The cursor is the source's own bookmark
 * (a byte offset, a next link…): small JSON, carried in the next page job's queue message.
 */
export interface DirectorySource {
  /** Whether new accounts need a password from the source (CSV) or sign in through SSO. */
  readonly requiresPassword: boolean;
  /**
   * Whether one user may be listed more than once in a run (once per selected group, for Entra): the
   * copies are one user. Otherwise (CSV) two entries with one key are a duplicate-match-value error.
   */
  readonly listsUsersRepeatedly: boolean;
  /** Whether the source can list only what changed since a checkpoint (incremental runs). */
  readonly supportsIncremental: boolean;
  /**
   * The chains a run's listing reads at once, each its own sequence of pages from its own start (e.g. users,
   * shares of the groups' members, managers), in the order they start. Without it, or for a run it does not
   * split, the listing is the one chain `main`.
   */
  chains?(run: Run): string[];
  /**
   * Reads one page of a chain (absent: `main`). `cursor` is null for the chain's first page. Throws AppError;
   * `transient` ones are retried.
   */
  readPage(request: { run: Run; chain?: string; page: number; cursor: unknown }): Promise<SourcePage>;
  /**
   * "Test connection": reaches the directory with the profile's credentials; a sentence on success (and what
   * will not work as an admin expects), an AppError naming the problem otherwise.
   */
  testConnection(profile: ConnectionProfile): Promise<{ detail: string; warnings: string[] }>;
  /** Groups an admin can select (directories that scope users by group). */
  availableGroups?(profile: ConnectionProfile): Promise<AvailableGroup[]>;
}

export interface AvailableGroup {
  id: string;
  name: string;
  kind: string;
}

export interface SourcePage {
  entries: SourceEntry[];
  /** The cursor of the following page, or null after the last page. */
  next: unknown;
  /** A checkpoint an incremental run can later resume from (e.g. a Graph delta link). */
  checkpoint?: string;
}

export type DirectorySources = (profile: ConnectionProfile) => DirectorySource;

import type { AppError } from '../errors/app-error.js';
import type { Run } from '../sync/run-model.js';
import { perform } from './dispatch.js';
import type { AdminServices, Caller } from './operation.js';
import type { InputOf, OperationName, OutputOf } from './operations.js';

export interface WaitOptions {
  /** Told the run's state each time it is looked at, until it ends. */
  onProgress?: (run: Run) => void;
}

/**
 * How a surface reaches the admin core: the CLI holds one, whether it acts on storage here (the local
 * client) or on a deployed app through its HTTP API (an HTTP client of the same interface).
 */
export interface AdminClient {
  call<K extends OperationName>(name: K, input: InputOf<K>): Promise<OutputOf<K>>;
  /** Resolves with the run once it has ended (any terminal state). */
  waitForRun(runId: string, options?: WaitOptions): Promise<Run>;
}

/**
 * How long the local client holds a run's queue message while it works on it (renewed meanwhile). Short,
 * unlike the Functions host's minutes: when the CLI is killed (Ctrl-C, a closed terminal), what it held
 * comes back this soon for the next `usersync sync` to resume.
 */
export const LOCAL_LEASE_SECONDS = 30;

/** Takes a run to its end here: works the app's queues with its own handlers (shared/host/local-admin-client.ts). */
export type RunDriver = (runId: string, options: WaitOptions) => Promise<Run>;

/**
 * The admin core in-process, acting as `caller`. `explain` turns a failure of the machinery an admin can
 * fix (storage not reachable…) into an AppError saying how; anything else passes through as it is.
 */
export class LocalAdminClient implements AdminClient {
  constructor(
    private readonly services: AdminServices,
    private readonly caller: Caller,
    private readonly drive: RunDriver,
    private readonly explain: (error: unknown) => AppError | undefined = () => undefined,
  ) {}

  async call<K extends OperationName>(name: K, input: InputOf<K>): Promise<OutputOf<K>> {
    return this.explained(() => perform(this.services, this.caller, name, () => input));
  }

  async waitForRun(runId: string, options: WaitOptions = {}): Promise<Run> {
    return this.explained(() => this.drive(runId, options));
  }

  private async explained<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.explain(error) ?? error;
    }
  }
}

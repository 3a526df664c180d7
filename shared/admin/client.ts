import type { AppError } from '../errors/app-error.js';
import type { Run } from '../sync/run-model.js';
import { perform } from './dispatch.js';
import type { AdminServices, Caller } from './operation.js';
import type { InputOf, OperationName, OutputOf } from './operations.js';
import { runView, type RunView } from './runs.js';

export interface WaitOptions {
  /** Told the run as `GET /runs/{id}` shows it (with its progress) each time it is looked at, until it ends. */
  onProgress?: (run: RunView) => void;
}

/**
 * How a surface reaches the admin core: the CLI holds one, whether it acts on storage here (the local
 * client) or on a deployed app through its HTTP API (an HTTP client of the same interface).
 */
export interface AdminClient {
  call<K extends OperationName>(name: K, input: InputOf<K>): Promise<OutputOf<K>>;
  /** Resolves with the run once it has ended (any terminal state), as `GET /runs/{id}` shows it. */
  waitForRun(runId: string, options?: WaitOptions): Promise<RunView>;
}

/**
 * How long the local client holds a run's queue message while it works on it (renewed meanwhile). Short,
 * unlike the Functions host's minutes: when the CLI is killed (Ctrl-C, a closed terminal), what it held
 * comes back this soon for the next `usersync sync` to resume.
 */
export const LOCAL_LEASE_SECONDS = 30;

/**
 * Takes a run to its end here: works the app's queues with its own handlers (shared/host/local-admin-client.ts),
 * telling `onProgress` the run each time it looks (and waiting for it).
 */
export type RunDriver = (runId: string, options: { onProgress?: (run: Run) => Promise<void> }) => Promise<Run>;

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

  async waitForRun(runId: string, { onProgress }: WaitOptions = {}): Promise<RunView> {
    const { deps } = this.services;
    return this.explained(async () => {
      const run = await this.drive(runId, onProgress ? { onProgress: async (seen) => onProgress(await runView(deps, seen)) } : {});
      return runView(deps, run);
    });
  }

  private async explained<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.explain(error) ?? error;
    }
  }
}

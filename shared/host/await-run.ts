import type { ComposedApp } from '../app/compose.js';
import { isQueueFunction, type FunctionDefinition } from '../app/registry.js';
import { AppError } from '../errors/app-error.js';
import { isTerminal, type Run } from '../sync/run-model.js';
import { LocalHost } from './local-host.js';

export interface AwaitRunOptions {
  queueWorkers?: number;
  /** How long a message stays hidden while a worker here holds it (renewed meanwhile); the host's default otherwise. */
  messageLeaseSeconds?: number;
  /** Gives up (throws) after this long. */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Told the run each time it is looked at — first before any work here — until it ends; waited for. */
  onProgress?: (run: Run) => void | Promise<void>;
}

/**
 * Works the app's queues with its own handlers — as the Functions host would — until the run ends.
 * Used by the CLI's `sync`, the demo, the benchmark and the integration tests.
 */
export async function awaitRun(app: ComposedApp, definitions: FunctionDefinition[], runId: string, options: AwaitRunOptions = {}): Promise<Run> {
  const connectionString = app.config.storageConnectionString;
  if (!connectionString) throw new AppError('config-invalid', 'Working the queues here needs AzureWebJobsStorage (a connection string).');
  const host = new LocalHost(definitions.filter(isQueueFunction), {
    connectionString,
    queueWorkers: options.queueWorkers ?? 4,
    ...(options.messageLeaseSeconds ? { messageLeaseSeconds: options.messageLeaseSeconds } : {}),
    pollIntervalMs: 20,
    queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 200 },
    log: options.log ?? (() => undefined),
  });
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const look = async (): Promise<Run> => {
    const run = await app.deps.runs.get(runId);
    if (!run) throw new AppError('run-not-found', `Run ${runId} disappeared.`);
    await options.onProgress?.(run);
    return run;
  };
  // Where the run stands before this driver does anything: an ended run needs no workers.
  const before = await look();
  if (isTerminal(before.state)) return before;
  await host.start();
  try {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const run = await look();
      if (isTerminal(run.state)) return run;
      if (Date.now() > deadline) throw new AppError('run-active', `Run ${runId} is still ${run.state} after the wait.`, { details: { runId } });
    }
  } finally {
    await host.stop();
  }
}

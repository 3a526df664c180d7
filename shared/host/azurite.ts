import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export interface AzuriteInstance {
  /** Explicit connection string for this instance's random ports (not `UseDevelopmentStorage=true`). */
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  /** The Azurite process (the benchmark samples its memory). */
  pid: number | undefined;
  /** Shuts Azurite down gracefully (SIGKILL after 5 s) and resolves once the process has exited. */
  stop(): Promise<void>;
}

const ACCOUNT_NAME = 'devstoreaccount1';
// The well-known Azurite development key; not a secret.
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;

/*
 * Preloaded into the Azurite process: when our end of its stdin closes (stop(), or this process dying in
 * any way, even SIGKILL) it sends itself SIGTERM, which Azurite handles by closing its servers gracefully.
 */
const PARENT_WATCHDOG =
  'data:text/javascript,process.stdin.on("end",()=>process.kill(process.pid,"SIGTERM"));process.stdin.resume();';

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g;

/*
 * Azurite sweeps unreferenced blob and queue extents 10 minutes after it starts, then every 10 minutes, and the
 * sweep deletes each one by a scan of all extents: quadratic, and it never yields. After 10 minutes of the
 * test suite (every queue message ever deleted is such an extent) it froze all three services for about 90
 * seconds, so whichever test ran then timed out. Set before Azurite builds its servers, the constant is the
 * sweep's interval (read from its own modules, so an Azurite without these files fails to start, loudly).
 */
const sweepInterval = (ms: number): string =>
  'data:text/javascript,' +
  encodeURIComponent(
    `import{createRequire}from"node:module";const r=createRequire(process.argv[1]);` +
      `for(const s of["blob","queue"])r("./"+s+"/utils/constants.js").DEFAULT_GC_INTERVAL_MS=${ms};`,
  );

export interface AzuriteOptions {
  /** A folder to persist to; in memory when absent. */
  location?: string;
  nodeArgs?: string[];
  /** How often Azurite sweeps unreferenced extents (its default: 10 minutes; see sweepInterval). */
  extentSweepIntervalMs?: number;
}

/** Starts a private Azurite (blob, queue, table) on free ports; in memory unless `location` is given. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const entry = path.join(
    path.dirname(createRequire(import.meta.url).resolve('azurite/package.json')),
    'dist/src/azurite.js',
  );
  const args = [
    // E.g. --cpu-prof: the benchmark profiles Azurite as well as the pipeline.
    ...(options.nodeArgs ?? []),
    '--import',
    PARENT_WATCHDOG,
    ...(options.extentSweepIntervalMs === undefined ? [] : ['--import', sweepInterval(options.extentSweepIntervalMs)]),
    entry,
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--blobHost', '127.0.0.1',
    '--queueHost', '127.0.0.1',
    '--tableHost', '127.0.0.1',
    '--blobPort', '0',
    '--queuePort', '0',
    '--tablePort', '0',
    ...(options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdin = child.stdin as Writable;
  const stdout = child.stdout as Readable;
  const stderr = child.stderr as Readable;

  // Normal exits of this process: signal directly (the stdin watchdog covers crashes and kills).
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);

  let out = '';
  let err = '';
  const tail = (s: string): string => s.slice(-OUTPUT_TAIL_CHARS);
  // Keep draining both pipes for the child's lifetime so it never blocks on a full pipe.
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out = tail(out + chunk);
  });
  stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err = tail(err + chunk);
  });

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    });
  });

  const ports = await new Promise<Record<'Blob' | 'Queue' | 'Table', number>>((resolve, reject) => {
    const found: Partial<Record<'Blob' | 'Queue' | 'Table', number>> = {};
    const cleanup = (): void => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const fail = (reason: string): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start: ${reason}. stderr: ${err.trim() || '(empty)'}; stdout: ${out.trim() || '(empty)'}`));
    };
    const onData = (): void => {
      for (const match of out.matchAll(LISTENING)) {
        found[match[1] as 'Blob' | 'Queue' | 'Table'] = Number(match[2]);
      }
      if (found.Blob !== undefined && found.Queue !== undefined && found.Table !== undefined) {
        cleanup();
        resolve({ Blob: found.Blob, Queue: found.Queue, Table: found.Table });
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`process exited early (code ${code ?? 'none'}, signal ${signal ?? 'none'})`);
    const onError = (e: Error): void => fail(`spawn failed (${e.message})`);
    const timer = setTimeout(() => fail(`no "listening" lines within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  // Let this process exit without an explicit stop(); the exit hook and the watchdog still end Azurite.
  child.unref();
  for (const stream of [stdin, stdout, stderr]) {
    (stream as unknown as { unref?: () => void }).unref?.();
  }

  const endpoint = (port: number): string => `http://127.0.0.1:${port}/${ACCOUNT_NAME}`;
  let stopping: Promise<void> | undefined;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};AccountKey=${ACCOUNT_KEY};` +
      `BlobEndpoint=${endpoint(ports.Blob)};QueueEndpoint=${endpoint(ports.Queue)};TableEndpoint=${endpoint(ports.Table)};`,
    blobPort: ports.Blob,
    queuePort: ports.Queue,
    tablePort: ports.Table,
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        stdin.end(); // the watchdog turns this into Azurite's own graceful SIGTERM shutdown
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

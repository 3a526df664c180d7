import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { isHttpFunction, isQueueFunction, isTimerFunction, type FunctionDefinition } from '../app/registry.js';
import { DEFAULT_QUEUE_SETTINGS, readHostJson, type QueueSettings } from './host-json.js';
import { HttpServer } from './http-server.js';
import { Invocations, type InvocationCounters } from './invocations.js';
import { QueueWorkers } from './queue-workers.js';
import { Timers } from './timers.js';

export type { InvocationCounters } from './invocations.js';
export type { QueueSettings } from './host-json.js';

export interface LocalHostOptions {
  connectionString: string;
  /** 0 = a free port; undefined = no HTTP server. */
  httpPort?: number;
  /** Fire timer functions on their schedules (fireTimer() works either way). */
  runTimer?: boolean;
  /** Concurrent handler invocations per queue; default host.json batchSize, else 4. */
  queueWorkers?: number;
  /** First idle poll delay, doubling up to maxPollingIntervalMs while queues stay empty; default 250. */
  pollIntervalMs?: number;
  /**
   * How long a received message stays hidden while its handler runs, renewed at half-time as the Functions
   * host does; after a crash the message reappears once it lapses. Default 300.
   */
  messageLeaseSeconds?: number;
  /** Overrides of host.json. */
  queues?: Partial<QueueSettings>;
  /** Largest request body accepted (413 above it); default Azure Functions' 100 MB. */
  maxRequestBodyBytes?: number;
  /** Default: host.json in process.cwd(); a missing file means defaults (queues, routePrefix `api`). */
  hostJsonPath?: string;
  log?: (line: string) => void;
}

/**
 * A small stand-in for the Azure Functions host (there is no `func` here): drives the same
 * FunctionDefinitions from storage queues (queue-workers.ts), timers (timers.ts) and an HTTP port
 * (http-server.ts), with the queue settings of host.json (host-json.ts).
 */
export class LocalHost {
  readonly queueSettings: QueueSettings;
  /** host.json's `extensions.http.routePrefix`, as the Functions host routes by it (`api` when absent). */
  readonly routePrefix: string;
  private readonly definitions: FunctionDefinition[];
  private readonly workers: number;
  private readonly emit: (line: string) => void;
  private readonly calls: Invocations;
  private readonly timers: Timers;
  private readonly abort = new AbortController();
  private queueWorkers: QueueWorkers | undefined;
  private http: HttpServer | undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(
    definitions: FunctionDefinition[],
    private readonly options: LocalHostOptions,
  ) {
    const names = new Set<string>();
    for (const def of definitions) {
      if (names.has(def.name)) throw new Error(`LocalHost: duplicate function name "${def.name}"`);
      names.add(def.name);
    }
    this.definitions = definitions;
    const hostJson = readHostJson(options.hostJsonPath ?? path.resolve(process.cwd(), 'host.json'));
    const fromFile = hostJson.queues;
    this.routePrefix = hostJson.routePrefix;
    this.queueSettings = { ...DEFAULT_QUEUE_SETTINGS, ...fromFile, ...options.queues };
    this.workers = options.queueWorkers ?? options.queues?.batchSize ?? fromFile.batchSize ?? 4;
    if (!Number.isInteger(this.workers) || this.workers < 1) {
      throw new Error(`LocalHost: queueWorkers must be a positive integer, got ${this.workers}`);
    }
    this.emit = options.log ?? ((line) => console.log(line));
    this.calls = new Invocations(this.emit);
    this.timers = new Timers(definitions.filter(isTimerFunction), this.calls, this.emit, this.abort.signal);
  }

  get invocations(): Readonly<InvocationCounters> {
    return { ...this.calls.counters };
  }

  /** Base URL of the HTTP server, without a trailing slash (routes live under `routePrefix`). */
  get httpUrl(): string {
    if (!this.http) throw new Error('LocalHost: no HTTP server is listening');
    return this.http.url;
  }

  /** True when no invocation (queue, timer or HTTP) is in flight. */
  idle(): boolean {
    return this.calls.idle();
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('LocalHost: start() may be called once');
    // Validate everything before any side effect.
    const schedules = this.options.runTimer ? this.timers.schedules() : [];
    const { httpPort } = this.options;
    const http =
      httpPort === undefined
        ? undefined
        : new HttpServer(this.definitions.filter(isHttpFunction), {
            port: httpPort,
            maxRequestBodyBytes: this.options.maxRequestBodyBytes,
            routePrefix: this.routePrefix,
            invocations: this.calls,
            emit: this.emit,
          });

    const service = QueueServiceClient.fromConnectionString(this.options.connectionString);
    this.queueWorkers = await QueueWorkers.open(service, this.definitions.filter(isQueueFunction), {
      settings: this.queueSettings,
      workers: this.workers,
      pollIntervalMs: this.options.pollIntervalMs ?? 250,
      leaseSeconds: this.options.messageLeaseSeconds ?? 300,
      invocations: this.calls,
      emit: this.emit,
      signal: this.abort.signal,
    });
    if (http) {
      await http.listen();
      this.http = http;
    }
    this.state = 'running';
    this.queueWorkers.start();
    this.timers.start(schedules);
  }

  /** Stops polling, timers and the HTTP server, waiting for in-flight invocations to finish. */
  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    this.abort.abort();
    this.timers.stop();
    const drain = async (): Promise<void> => {
      await this.queueWorkers?.stopped();
      await this.calls.settled();
    };
    await (this.http ? this.http.close(drain) : drain());
  }

  /** Runs the timer function(s) once now; rejects if a handler throws. */
  fireTimer(name?: string): Promise<void> {
    return this.timers.fire(name);
  }
}

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { format } from 'node:util';
// Default import on purpose: in Node ESM the CommonJS bundle of @azure/functions exposes `app` etc. as named
// exports, but not its classes (`import { HttpRequest } from '@azure/functions'` fails at run time).
import azureFunctions from '@azure/functions';
import type { HttpResponseInit, InvocationContext, Timer, TriggerMetadata } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { FunctionDefinition } from '../app/registry.js';
import { AppError, isAppError } from '../errors/app-error.js';
import { internalError, problemOf, type ApiResponse } from '../http/problem.js';

/** The `extensions.queues` settings of host.json that the local host honours, durations in milliseconds. */
export interface QueueSettings {
  /** Attempts before a message moves to `<queue>-poison` (host.json `maxDequeueCount`, default 5). */
  maxDequeueCount: number;
  /** Delay before a failed message is visible again (host.json `visibilityTimeout`, default 0). */
  visibilityTimeoutMs: number;
  /** Most messages fetched per receive call (host.json `batchSize`, default 16). */
  batchSize: number;
  /** Ceiling of the idle poll back-off (host.json `maxPollingInterval`; Azure's default is 1 min, ours 2 s). */
  maxPollingIntervalMs: number;
  /** How message text is encoded (host.json `messageEncoding`, default base64). */
  messageEncoding: 'base64' | 'none';
}

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
  /** Default: host.json in process.cwd(); a missing file means defaults. */
  hostJsonPath?: string;
  log?: (line: string) => void;
}

export interface InvocationCounters {
  started: number;
  succeeded: number;
  failed: number;
  /** Queue messages moved to a poison queue. */
  poisoned: number;
}

type TimerDefinition = Extract<FunctionDefinition, { trigger: { kind: 'timer' } }>;
type QueueDefinition = Extract<FunctionDefinition, { trigger: { kind: 'queue' } }>;
type HttpDefinition = Extract<FunctionDefinition, { trigger: { kind: 'http' } }>;

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

const MAX_MESSAGES_PER_RECEIVE = 32; // Azure Storage limit
const MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024; // Azure Functions' own request size limit
const ROUTE_PREFIX = '/api/';

const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  maxDequeueCount: 5,
  visibilityTimeoutMs: 0,
  batchSize: 16,
  maxPollingIntervalMs: 2_000,
  messageEncoding: 'base64',
};

/**
 * A small stand-in for the Azure Functions host (there is no `func` here): drives the same
 * FunctionDefinitions from storage queues, timers and an HTTP port.
 */
export class LocalHost {
  readonly queueSettings: QueueSettings;
  private readonly definitions: FunctionDefinition[];
  private readonly workers: number;
  private readonly pollIntervalMs: number;
  private readonly leaseSeconds: number;
  private readonly emit: (line: string) => void;
  private readonly counters: InvocationCounters = { started: 0, succeeded: 0, failed: 0, poisoned: 0 };
  private readonly active = new Set<Promise<unknown>>();
  private readonly lastTimerRun = new Map<string, Date>();
  private readonly timerHandles = new Set<NodeJS.Timeout>();
  private pollLoops: Promise<void>[] = [];
  /** Idle pollers waiting out their back-off; a finished invocation wakes them (see pollQueue). */
  private readonly sleepers = new Set<() => void>();
  private server: http.Server | undefined;
  private readonly abort = new AbortController();
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
    const fromFile = readHostJsonQueueSettings(options.hostJsonPath ?? path.resolve(process.cwd(), 'host.json'));
    this.queueSettings = { ...DEFAULT_QUEUE_SETTINGS, ...fromFile, ...options.queues };
    this.workers = options.queueWorkers ?? options.queues?.batchSize ?? fromFile.batchSize ?? 4;
    if (!Number.isInteger(this.workers) || this.workers < 1) {
      throw new Error(`LocalHost: queueWorkers must be a positive integer, got ${this.workers}`);
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.leaseSeconds = options.messageLeaseSeconds ?? 300;
    this.emit = options.log ?? ((line) => console.log(line));
  }

  get invocations(): Readonly<InvocationCounters> {
    return { ...this.counters };
  }

  /** Base URL of the HTTP server (routes live under `/api/`). */
  get httpUrl(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('LocalHost: no HTTP server is listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** True when no invocation (queue, timer or HTTP) is in flight. */
  idle(): boolean {
    return this.active.size === 0;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('LocalHost: start() may be called once');
    // Validate everything before any side effect.
    const timers = this.options.runTimer
      ? this.timers().map((def) => ({ def, schedule: parseSchedule(def.name, def.trigger.schedule) }))
      : [];
    const routes = this.options.httpPort === undefined ? [] : this.https().map(compileRoute);

    const service = QueueServiceClient.fromConnectionString(this.options.connectionString);
    const queues = await Promise.all(
      this.queues().map(async (def) => {
        const queue = service.getQueueClient(def.trigger.queueName);
        const poison = service.getQueueClient(`${def.trigger.queueName}-poison`);
        await Promise.all([queue.createIfNotExists(), poison.createIfNotExists()]);
        return { def, queue, poison };
      }),
    );
    if (this.options.httpPort !== undefined) {
      this.server = await listen(this.options.httpPort, (req, res) => {
        void this.track(this.handleHttp(routes, req, res));
      });
    }
    this.state = 'running';
    this.pollLoops = queues.map(({ def, queue, poison }) => this.pollQueue(def, queue, poison));
    for (const { def, schedule } of timers) this.scheduleTimer(def, schedule);
  }

  /** Stops polling, timers and the HTTP server, waiting for in-flight invocations to finish. */
  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    this.abort.abort();
    for (const handle of this.timerHandles) clearTimeout(handle);
    this.timerHandles.clear();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.all(this.pollLoops);
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
    server?.closeAllConnections();
    await closed;
  }

  /** Runs the timer function(s) once now; rejects if a handler throws. */
  async fireTimer(name?: string): Promise<void> {
    const timers = this.timers().filter((def) => name === undefined || def.name === name);
    if (name !== undefined && timers.length === 0) throw new Error(`LocalHost: no timer function named "${name}"`);
    await Promise.all(
      timers.map(async (def) => {
        const outcome = await this.track(this.runTimer(def, tryNextOccurrence(def.trigger.schedule)));
        if (!outcome.ok) throw outcome.error;
      }),
    );
  }

  private timers(): TimerDefinition[] {
    return this.definitions.filter((def): def is TimerDefinition => def.trigger.kind === 'timer');
  }

  private queues(): QueueDefinition[] {
    return this.definitions.filter((def): def is QueueDefinition => def.trigger.kind === 'queue');
  }

  private https(): HttpDefinition[] {
    return this.definitions.filter((def): def is HttpDefinition => def.trigger.kind === 'http');
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.active.add(work);
    void work.finally(() => this.active.delete(work)).catch(() => undefined);
    return work;
  }

  private async invoke<T>(
    functionName: string,
    triggerMetadata: TriggerMetadata | undefined,
    run: (context: InvocationContext) => Promise<T>,
  ): Promise<Outcome<T>> {
    const context = new azureFunctions.InvocationContext({
      functionName,
      invocationId: randomUUID(),
      triggerMetadata,
      logHandler: (level, ...args) => this.emit(`${functionName} [${level}] ${format(...args)}`),
    });
    this.counters.started++;
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const value = await run(context);
      this.counters.succeeded++;
      return { ok: true, value, ms: elapsed() };
    } catch (error) {
      this.counters.failed++;
      return { ok: false, error, ms: elapsed() };
    }
  }

  // ---- queues ----

  private async pollQueue(def: QueueDefinition, queue: QueueClient, poison: QueueClient): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let idleDelay = this.pollIntervalMs;
    while (this.state === 'running') {
      if (inFlight.size >= this.workers) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        const response = await queue.receiveMessages({
          numberOfMessages: Math.min(MAX_MESSAGES_PER_RECEIVE, this.queueSettings.batchSize, this.workers - inFlight.size),
          visibilityTimeout: this.leaseSeconds,
        });
        messages = response.receivedMessageItems;
      } catch (error) {
        this.emit(`${def.name} receive from ${def.trigger.queueName} failed: ${errorMessage(error)}`);
      }
      if (messages.length === 0) {
        // A finished invocation usually queued the next step (a page queues the next page, the last shard
        // finalise): poll again at once instead of waiting out the back-off, which added up to
        // maxPollingInterval to each of the hundreds of sequential page jobs of a large listing.
        const woken = await this.sleep(idleDelay, true);
        idleDelay = woken ? this.pollIntervalMs : Math.min(idleDelay * 2, Math.max(this.pollIntervalMs, this.queueSettings.maxPollingIntervalMs));
        continue;
      }
      idleDelay = this.pollIntervalMs;
      for (const message of messages) {
        const work = this.track(this.processMessage(def, queue, poison, message));
        inFlight.add(work);
        void work.finally(() => {
          inFlight.delete(work);
          for (const wake of [...this.sleepers]) wake();
        });
      }
    }
  }

  /** Never rejects: every outcome is settled against the queue and logged. */
  private async processMessage(
    def: QueueDefinition,
    queue: QueueClient,
    poison: QueueClient,
    received: DequeuedMessageItem,
  ): Promise<void> {
    const message = { ...received }; // popReceipt changes with each lease renewal
    const { maxDequeueCount, visibilityTimeoutMs, messageEncoding } = this.queueSettings;
    const attempt = `attempt ${message.dequeueCount}/${maxDequeueCount}`;
    try {
      const body = decodeMessage(message.messageText, messageEncoding);
      if (!body.ok) {
        // As the Functions host does with undecodable messages: straight to the poison queue.
        await this.moveToPoison(queue, poison, message);
        this.emit(`${def.name} message is not valid ${messageEncoding}; moved to ${poisonName(def)}`);
        return;
      }
      const triggerMetadata = {
        id: message.messageId,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn.toISOString(),
        expirationTime: message.expiresOn.toISOString(),
        nextVisibleTime: message.nextVisibleOn.toISOString(),
        popReceipt: message.popReceipt,
      };
      const outcome = await this.withRenewedLease(def, queue, message, () =>
        this.invoke(def.name, triggerMetadata, (context) => def.handler(body.value, context)),
      );
      if (outcome.ok) {
        await queue.deleteMessage(message.messageId, message.popReceipt);
        this.emit(`${def.name} succeeded in ${outcome.ms} ms (${attempt})`);
      } else if (message.dequeueCount >= maxDequeueCount) {
        await this.moveToPoison(queue, poison, message);
        this.emit(`${def.name} failed in ${outcome.ms} ms (${attempt}): ${errorMessage(outcome.error)}; moved to ${poisonName(def)}`);
      } else {
        // Only the visibility changes, so the message text is kept and comes back after the retry delay.
        const retrySeconds = Math.ceil(visibilityTimeoutMs / 1000);
        await queue.updateMessage(message.messageId, message.popReceipt, undefined, retrySeconds);
        this.emit(`${def.name} failed in ${outcome.ms} ms (${attempt}): ${errorMessage(outcome.error)}; retry in ${retrySeconds} s`);
      }
    } catch (error) {
      // E.g. the lease expired and another receiver owns the message now; it will be delivered again.
      this.emit(`${def.name} could not settle message (${attempt}): ${errorMessage(error)}`);
    }
  }

  /** Keeps the message hidden while `work` runs, updating `message.popReceipt` on each renewal. */
  private async withRenewedLease<T>(
    def: QueueDefinition,
    queue: QueueClient,
    message: DequeuedMessageItem,
    work: () => Promise<T>,
  ): Promise<T> {
    let renewal = Promise.resolve();
    const interval = setInterval(() => {
      renewal = renewal.then(async () => {
        try {
          const renewed = await queue.updateMessage(message.messageId, message.popReceipt, undefined, this.leaseSeconds);
          if (renewed.popReceipt) message.popReceipt = renewed.popReceipt;
          // Says a long invocation is still at work (and lets tests wait for a renewal rather than a time).
          this.emit(`${def.name} renewed its message lease for ${this.leaseSeconds} s (attempt ${message.dequeueCount})`);
        } catch (error) {
          this.emit(`${def.name} could not renew its message lease: ${errorMessage(error)}`);
        }
      });
    }, (this.leaseSeconds * 1000) / 2);
    try {
      return await work();
    } finally {
      clearInterval(interval);
      await renewal; // settle with the latest popReceipt
    }
  }

  private async moveToPoison(queue: QueueClient, poison: QueueClient, message: DequeuedMessageItem): Promise<void> {
    await poison.sendMessage(message.messageText); // same encoded text, as the Functions host does
    await queue.deleteMessage(message.messageId, message.popReceipt);
    this.counters.poisoned++;
  }

  /** Resolves after `ms`, on stop(), or (when `wakeable`) when an invocation finishes: true if woken early. */
  private sleep(ms: number, wakeable = false): Promise<boolean> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.sleepers.delete(onWake);
        resolve(woken);
      };
      const onAbort = (): void => done(false);
      const onWake = (): void => done(true);
      const timer = setTimeout(() => done(false), ms);
      signal.addEventListener('abort', onAbort);
      if (wakeable) this.sleepers.add(onWake);
    });
  }

  // ---- timers ----

  private scheduleTimer(def: TimerDefinition, schedule: Schedule): void {
    const next = schedule.next(new Date());
    const handle = setTimeout(() => {
      this.timerHandles.delete(handle);
      // The next occurrence is computed after this run ends, so runs of one timer never overlap.
      void this.track(this.runTimer(def, schedule.next(new Date()))).then(() => {
        if (this.state === 'running') this.scheduleTimer(def, schedule);
      });
    }, next.getTime() - Date.now());
    this.timerHandles.add(handle);
  }

  private async runTimer(def: TimerDefinition, next: Date | undefined): Promise<Outcome<void>> {
    const now = new Date();
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: (this.lastTimerRun.get(def.name) ?? now).toISOString(),
        next: (next ?? now).toISOString(),
        lastUpdated: now.toISOString(),
      },
    };
    this.lastTimerRun.set(def.name, now);
    const outcome = await this.invoke(def.name, undefined, (context) => def.handler(timer, context));
    this.emit(
      outcome.ok
        ? `${def.name} succeeded in ${outcome.ms} ms`
        : `${def.name} failed in ${outcome.ms} ms: ${errorMessage(outcome.error)}`,
    );
    return outcome;
  }

  // ---- HTTP ----

  private async handleHttp(routes: CompiledRoute[], req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      const method = (req.method ?? 'GET').toUpperCase();
      const matches = matchRoutes(routes, url.pathname);
      if (matches.length === 0) throw new AppError('not-found', `No function is registered for ${url.pathname}.`);
      const match = matches.find((m) => (m.route.def.trigger.methods as string[]).includes(method));
      if (!match) {
        const allow = [...new Set(matches.flatMap((m) => m.route.def.trigger.methods))].join(', ');
        throw new AppError('method-not-allowed', `Use ${allow} for ${url.pathname}.`, { details: { allow } });
      }
      // As the Functions host: a declared length over the limit is refused before a byte of the body is read.
      const limit = this.options.maxRequestBodyBytes ?? MAX_REQUEST_BODY_BYTES;
      const body = Number(req.headers['content-length'] ?? 0) > limit ? undefined : await readBody(req, limit);
      if (body === undefined) {
        req.resume(); // the rest is read and dropped, never held
        throw new AppError('body-too-large', `The request body is larger than ${limit} bytes.`);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const { def } = match.route;
      const outcome = await this.invoke(def.name, undefined, async (context) => {
        // `query` is left to HttpRequest, which reads it from the URL and so keeps repeated keys.
        const request = new azureFunctions.HttpRequest({
          method,
          url: url.toString(),
          headers,
          params: match.params,
          body: body.length > 0 ? { bytes: body } : undefined,
        });
        return toHttpResponse(await def.handler(request, context));
      });
      if (!outcome.ok) {
        this.emit(`${def.name} failed in ${outcome.ms} ms: ${errorMessage(outcome.error)}`);
        return sendProblem(res, internalError());
      }
      const response = outcome.value;
      this.emit(`${def.name} ${response.status} in ${outcome.ms} ms`);
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    } catch (error) {
      // The host's own answers (404, 405, 413, a malformed path) are AppErrors; anything else is a failure.
      if (!isAppError(error)) this.emit(`HTTP request failed: ${errorMessage(error)}`);
      if (!res.headersSent) sendProblem(res, problemOf(error));
      else res.destroy();
    }
  }
}

// ---- host.json ----

function readHostJsonQueueSettings(file: string): Partial<QueueSettings> {
  if (!existsSync(file)) return {};
  let queues: unknown;
  try {
    queues = (JSON.parse(readFileSync(file, 'utf8')) as { extensions?: { queues?: unknown } }).extensions?.queues;
  } catch (error) {
    throw new Error(`LocalHost: cannot read ${file}: ${errorMessage(error)}`);
  }
  if (queues === undefined) return {};
  if (typeof queues !== 'object' || queues === null) throw new Error(`LocalHost: ${file}: extensions.queues must be an object`);
  const q = queues as Record<string, unknown>;
  const where = (key: string): string => `LocalHost: ${file}: extensions.queues.${key}`;
  const settings: Partial<QueueSettings> = {};
  if (q.maxDequeueCount !== undefined) settings.maxDequeueCount = positiveInteger(q.maxDequeueCount, where('maxDequeueCount'));
  if (q.batchSize !== undefined) settings.batchSize = positiveInteger(q.batchSize, where('batchSize'));
  if (q.visibilityTimeout !== undefined) settings.visibilityTimeoutMs = duration(q.visibilityTimeout, where('visibilityTimeout'));
  if (q.maxPollingInterval !== undefined) {
    settings.maxPollingIntervalMs = duration(q.maxPollingInterval, where('maxPollingInterval'));
  }
  if (q.messageEncoding !== undefined) {
    const encoding = String(q.messageEncoding).toLowerCase();
    if (encoding !== 'base64' && encoding !== 'none') throw new Error(`${where('messageEncoding')} must be "base64" or "none"`);
    settings.messageEncoding = encoding;
  }
  return settings;
}

function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error(`${where} must be a positive integer`);
  return value;
}

/** A .NET TimeSpan string ("[d.]hh:mm:ss[.fffffff]") or, as host.json also accepts, a number of milliseconds. */
function duration(value: unknown, where: string): number {
  if (typeof value === 'number' && value >= 0) return value;
  const match = typeof value === 'string' ? /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value) : null;
  if (!match) throw new Error(`${where} must be a duration like "00:00:10"`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = '0'] = match;
  return (
    ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1000 +
    Math.round(Number(`0.${fraction}`) * 1000)
  );
}

// ---- queue messages ----

function decodeMessage(text: string, encoding: QueueSettings['messageEncoding']): { ok: true; value: unknown } | { ok: false } {
  let decoded = text;
  if (encoding === 'base64') {
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return { ok: false };
    decoded = Buffer.from(text, 'base64').toString('utf8');
  }
  // As the Functions Node.js worker does: JSON when it parses, else the string itself.
  try {
    return { ok: true, value: JSON.parse(decoded) as unknown };
  } catch {
    return { ok: true, value: decoded };
  }
}

function poisonName(def: QueueDefinition): string {
  return `${def.trigger.queueName}-poison`;
}

// ---- NCRONTAB ----

interface Schedule {
  /** The first occurrence strictly after `after`, in UTC as on Azure by default. */
  next(after: Date): Date;
}

// Six-field NCRONTAB ("sec min hour day month weekday") limited to what the local host needs: seconds,
// minutes and hours may be `*`, `*/N` or a number; day, month and weekday must be `*`.
function parseSchedule(functionName: string, expression: string): Schedule {
  const unsupported = (): Error =>
    new Error(
      `LocalHost: timer "${functionName}" schedule "${expression}" is not supported locally: use six fields ` +
        `(sec min hour day month weekday) where sec/min/hour are *, */N or a number and day/month/weekday are *`,
    );
  const fields = expression.trim().split(/\s+/);
  const [sec, min, hour, ...rest] = fields;
  if (fields.length !== 6 || sec === undefined || min === undefined || hour === undefined || rest.some((f) => f !== '*')) {
    throw unsupported();
  }
  const field = (text: string, max: number): ((value: number) => boolean) => {
    if (text === '*') return () => true;
    const step = /^\*\/(\d+)$/.exec(text)?.[1];
    if (step !== undefined && Number(step) >= 1 && Number(step) <= max) return (value) => value % Number(step) === 0;
    if (/^\d+$/.test(text) && Number(text) <= max) return (value) => value === Number(text);
    throw unsupported();
  };
  const matchSecond = field(sec, 59);
  const matchMinute = field(min, 59);
  const matchHour = field(hour, 23);
  return {
    next(after) {
      // Every day matches, so an occurrence is always within 24 h: scanning seconds is simple and cheap.
      const candidate = new Date(Math.floor(after.getTime() / 1000) * 1000);
      for (let i = 0; i <= 86_400; i++) {
        candidate.setTime(candidate.getTime() + 1000);
        if (matchSecond(candidate.getUTCSeconds()) && matchMinute(candidate.getUTCMinutes()) && matchHour(candidate.getUTCHours())) {
          return candidate;
        }
      }
      throw unsupported();
    },
  };
}

/** For fireTimer(): a schedule the local host cannot run still fires manually, without a `next` time. */
function tryNextOccurrence(expression: string): Date | undefined {
  try {
    return parseSchedule('', expression).next(new Date());
  } catch {
    return undefined;
  }
}

// ---- HTTP routing ----

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string };

interface CompiledRoute {
  def: HttpDefinition;
  segments: Segment[];
}

function compileRoute(def: HttpDefinition): CompiledRoute {
  const parts = splitPath(def.trigger.route);
  const segments = parts.map((part, index): Segment => {
    const rest = /^\{\*([A-Za-z_]\w*)\}$/.exec(part)?.[1];
    if (rest !== undefined && index === parts.length - 1) return { kind: 'rest', name: rest };
    const param = /^\{([A-Za-z_]\w*)\}$/.exec(part)?.[1];
    if (param !== undefined) return { kind: 'param', name: param };
    if (/[{}]/.test(part)) {
      throw new Error(
        `LocalHost: route "${def.trigger.route}" of "${def.name}" is not supported locally: ` +
          `use literal segments, {name} parameters and an optional trailing {*rest}`,
      );
    }
    return { kind: 'literal', text: part.toLowerCase() };
  });
  return { def, segments };
}

function splitPath(p: string): string[] {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/** Routes matching the path, most specific first (literal before {param} before {*rest}, as ASP.NET ranks them). */
function matchRoutes(routes: CompiledRoute[], pathname: string): { route: CompiledRoute; params: Record<string, string> }[] {
  if (!`${pathname}/`.startsWith(ROUTE_PREFIX)) return [];
  let parts: string[];
  try {
    parts = splitPath(pathname.slice(ROUTE_PREFIX.length - 1)).map(decodeURIComponent);
  } catch {
    throw new AppError('path-invalid', `The path ${pathname} is not valid percent-encoding: write a literal % as %25.`);
  }
  const matches: { route: CompiledRoute; params: Record<string, string> }[] = [];
  for (const route of routes) {
    const params = matchSegments(route.segments, parts);
    if (params) matches.push({ route, params });
  }
  const rank = (s: Segment): number => (s.kind === 'literal' ? 0 : s.kind === 'param' ? 1 : 2);
  return matches.sort((a, b) => {
    const n = Math.max(a.route.segments.length, b.route.segments.length);
    for (let i = 0; i < n; i++) {
      const ra = a.route.segments[i];
      const rb = b.route.segments[i];
      const diff = (ra ? rank(ra) : 3) - (rb ? rank(rb) : 3);
      if (diff !== 0) return diff;
    }
    return 0;
  });
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    if (segment.kind === 'rest') {
      params[segment.name] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal' && part.toLowerCase() !== segment.text) return undefined;
    if (segment.kind === 'param') params[segment.name] = part;
  }
  return parts.length === segments.length ? params : undefined;
}

function listen(port: number, onRequest: http.RequestListener): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(onRequest);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** The body, or undefined as soon as it exceeds `limit` (a body sent without a length). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      resolve(undefined);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
    req.once('close', () => reject(new Error('the client closed the request before its end'))); // no-op once settled
  });
}

interface WireResponse {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

/** Converts a handler's result the way the library does (jsonBody wins, content-type defaults), then buffers it. */
async function toHttpResponse(init: HttpResponseInit): Promise<WireResponse> {
  const response = init instanceof azureFunctions.HttpResponse ? init : new azureFunctions.HttpResponse(init);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: http.OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie' && name !== 'content-length' && name !== 'transfer-encoding') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-length'] = body.length;
  return { status: response.status, headers, body };
}

/** The host's own answers are problem+json too, in the API's shape. */
function sendProblem(res: http.ServerResponse, { status, headers, jsonBody }: ApiResponse): void {
  const text = JSON.stringify(jsonBody);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

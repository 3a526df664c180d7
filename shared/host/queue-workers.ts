import type { DequeuedMessageItem, QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { QueueFunction } from '../app/registry.js';
import type { QueueSettings } from './host-json.js';
import { errorMessage, type Invocations } from './invocations.js';

const MAX_MESSAGES_PER_RECEIVE = 32; // Azure Storage limit

export interface QueueWorkerOptions {
  settings: QueueSettings;
  /** Concurrent handler invocations per queue. */
  workers: number;
  /** First idle poll delay, doubling up to settings.maxPollingIntervalMs while a queue stays empty. */
  pollIntervalMs: number;
  /** How long a received message stays hidden while its handler runs, renewed at half-time. */
  leaseSeconds: number;
  invocations: Invocations;
  emit: (line: string) => void;
  /** Aborted on stop: polling ends, sleepers wake. */
  signal: AbortSignal;
}

interface Binding {
  def: QueueFunction;
  queue: QueueClient;
  poison: QueueClient;
}

/**
 * The queue triggers, as the Functions host runs them: each queue polled with an idle back-off, a message
 * leased while its handler runs, retried after the visibility timeout and moved to `<queue>-poison` after
 * maxDequeueCount deliveries (or at once when it cannot be decoded).
 */
export class QueueWorkers {
  /** Idle pollers waiting out their back-off; a finished invocation wakes them (see poll). */
  private readonly sleepers = new Set<() => void>();
  private loops: Promise<void>[] = [];

  private constructor(
    private readonly bindings: Binding[],
    private readonly options: QueueWorkerOptions,
  ) {}

  /** Creates each function's queue and its poison queue. */
  static async open(service: QueueServiceClient, definitions: QueueFunction[], options: QueueWorkerOptions): Promise<QueueWorkers> {
    const bindings = await Promise.all(
      definitions.map(async (def) => {
        const queue = service.getQueueClient(def.trigger.queueName);
        const poison = service.getQueueClient(poisonName(def));
        await Promise.all([queue.createIfNotExists(), poison.createIfNotExists()]);
        return { def, queue, poison };
      }),
    );
    return new QueueWorkers(bindings, options);
  }

  start(): void {
    this.loops = this.bindings.map((binding) => this.poll(binding));
  }

  /** Resolves once every poll loop has ended (after the signal); invocations they started may still run. */
  async stopped(): Promise<void> {
    await Promise.all(this.loops);
  }

  private async poll({ def, queue, poison }: Binding): Promise<void> {
    const { settings, workers, pollIntervalMs, leaseSeconds, signal } = this.options;
    const inFlight = new Set<Promise<void>>();
    let idleDelay = pollIntervalMs;
    while (!signal.aborted) {
      if (inFlight.size >= workers) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        const response = await queue.receiveMessages({
          numberOfMessages: Math.min(MAX_MESSAGES_PER_RECEIVE, settings.batchSize, workers - inFlight.size),
          visibilityTimeout: leaseSeconds,
        });
        messages = response.receivedMessageItems;
      } catch (error) {
        this.options.emit(`${def.name} receive from ${def.trigger.queueName} failed: ${errorMessage(error)}`);
      }
      if (messages.length === 0) {
        // A finished invocation usually queued the next step (a page queues the next page, the last shard
        // finalise): poll again at once instead of waiting out the back-off, which added up to
        // maxPollingInterval to each of the hundreds of sequential page jobs of a large listing.
        const woken = await this.sleep(idleDelay);
        idleDelay = woken ? pollIntervalMs : Math.min(idleDelay * 2, Math.max(pollIntervalMs, settings.maxPollingIntervalMs));
        continue;
      }
      idleDelay = pollIntervalMs;
      for (const message of messages) {
        const work = this.options.invocations.track(this.process(def, queue, poison, message));
        inFlight.add(work);
        void work.finally(() => {
          inFlight.delete(work);
          for (const wake of [...this.sleepers]) wake();
        });
      }
    }
  }

  /** Never rejects: every outcome is settled against the queue and logged. */
  private async process(def: QueueFunction, queue: QueueClient, poison: QueueClient, received: DequeuedMessageItem): Promise<void> {
    const message = { ...received }; // popReceipt changes with each lease renewal
    const { maxDequeueCount, visibilityTimeoutMs, messageEncoding } = this.options.settings;
    const emit = this.options.emit;
    const attempt = `attempt ${message.dequeueCount}/${maxDequeueCount}`;
    try {
      const body = decodeMessage(message.messageText, messageEncoding);
      if (!body.ok) {
        // As the Functions host does with undecodable messages: straight to the poison queue.
        await this.moveToPoison(queue, poison, message);
        emit(`${def.name} message is not valid ${messageEncoding}; moved to ${poisonName(def)}`);
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
        this.options.invocations.invoke(def.name, triggerMetadata, (context) => def.handler(body.value, context)),
      );
      if (outcome.ok) {
        await queue.deleteMessage(message.messageId, message.popReceipt);
        emit(`${def.name} succeeded in ${outcome.ms} ms (${attempt})`);
      } else if (message.dequeueCount >= maxDequeueCount) {
        await this.moveToPoison(queue, poison, message);
        emit(`${def.name} failed in ${outcome.ms} ms (${attempt}): ${errorMessage(outcome.error)}; moved to ${poisonName(def)}`);
      } else {
        // Only the visibility changes, so the message text is kept and comes back after the retry delay.
        const retrySeconds = Math.ceil(visibilityTimeoutMs / 1000);
        await queue.updateMessage(message.messageId, message.popReceipt, undefined, retrySeconds);
        emit(`${def.name} failed in ${outcome.ms} ms (${attempt}): ${errorMessage(outcome.error)}; retry in ${retrySeconds} s`);
      }
    } catch (error) {
      // E.g. the lease expired and another receiver owns the message now; it will be delivered again.
      emit(`${def.name} could not settle message (${attempt}): ${errorMessage(error)}`);
    }
  }

  /** Keeps the message hidden while `work` runs, updating `message.popReceipt` on each renewal. */
  private async withRenewedLease<T>(def: QueueFunction, queue: QueueClient, message: DequeuedMessageItem, work: () => Promise<T>): Promise<T> {
    const { leaseSeconds, emit } = this.options;
    let renewal = Promise.resolve();
    const interval = setInterval(() => {
      renewal = renewal.then(async () => {
        try {
          const renewed = await queue.updateMessage(message.messageId, message.popReceipt, undefined, leaseSeconds);
          if (renewed.popReceipt) message.popReceipt = renewed.popReceipt;
          // Says a long invocation is still at work (and lets tests wait for a renewal rather than a time).
          emit(`${def.name} renewed its message lease for ${leaseSeconds} s (attempt ${message.dequeueCount})`);
        } catch (error) {
          emit(`${def.name} could not renew its message lease: ${errorMessage(error)}`);
        }
      });
    }, (leaseSeconds * 1000) / 2);
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
    this.options.invocations.counters.poisoned++;
  }

  /** Resolves after `ms`, on stop, or when an invocation finishes: true if woken early by an invocation. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const { signal } = this.options;
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
      this.sleepers.add(onWake);
    });
  }
}

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

function poisonName(def: QueueFunction): string {
  return `${def.trigger.queueName}-poison`;
}

import { QueueServiceClient } from '@azure/storage-queue';
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue, JobQueueName } from '../../shared/sync/ports.js';
import { createTestApp } from '../support/test-app.js';

/** What a contract run needs: the queue, and a way to take back what arrived on each named queue. */
export interface JobQueueHarness {
  queue: JobQueue;
  /** Every message waiting on `name`, decoded as the Functions host would decode it; removes them. */
  drain(name: JobQueueName): Promise<unknown[]>;
  /** The raw text of every message waiting on `name`, without removing them. */
  peekRaw(name: JobQueueName): Promise<string[]>;
}

/** The JobQueue contract: any adapter (Storage queues, an in-memory fake) must pass it. */
export function describeJobQueueContract(name: string, make: () => Promise<JobQueueHarness>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let harness: JobQueueHarness;
    beforeEach(async () => {
      harness = await make();
    });

    it('a sent message arrives as base64-encoded JSON on the named queue only', async () => {
      const message = { runId: '20260601T120000Z-abcdef', page: 0, cursor: null, note: 'Zoë €' };
      await harness.queue.send('pages', message);

      const raw = await harness.peekRaw('pages');
      expect(raw).toEqual([Buffer.from(JSON.stringify(message), 'utf8').toString('base64')]);
      expect(raw[0]).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(await harness.peekRaw('reconcile')).toEqual([]);
      expect(await harness.peekRaw('finalise')).toEqual([]);
      expect(await harness.drain('pages')).toEqual([message]);
    });

    it('each queue name reaches its own queue, in order', async () => {
      await harness.queue.send('reconcile', { runId: 'r1', shard: 3 });
      await harness.queue.send('finalise', { runId: 'r1' });
      await harness.queue.send('reconcile', { runId: 'r1', shard: 4 });
      await harness.queue.send('pages', { runId: 'r1', page: 2, cursor: { offset: 1024, line: 17 } });

      expect(await harness.drain('reconcile')).toEqual([
        { runId: 'r1', shard: 3 },
        { runId: 'r1', shard: 4 },
      ]);
      expect(await harness.drain('finalise')).toEqual([{ runId: 'r1' }]);
      expect(await harness.drain('pages')).toEqual([{ runId: 'r1', page: 2, cursor: { offset: 1024, line: 17 } }]);
      expect(await harness.drain('reconcile')).toEqual([]);
    });

    it('a message sent with a delay is not received before it', async () => {
      await harness.queue.send('pages', { runId: 'r1', page: 3, cursor: null }, { delaySeconds: 600 });
      expect(await harness.peekRaw('pages')).toEqual([]);
    });
  });
}

async function storageQueueHarness(): Promise<JobQueueHarness> {
  const t = await createTestApp();
  const service = QueueServiceClient.fromConnectionString(t.env.AzureWebJobsStorage ?? '');
  const { names } = t.app.config;
  const queueName: Record<JobQueueName, string> = { pages: names.pagesQueue, reconcile: names.reconcileQueue, finalise: names.finaliseQueue };
  const client = (name: JobQueueName) => service.getQueueClient(queueName[name]);
  return {
    queue: t.app.deps.queue,
    async peekRaw(name) {
      const peeked = await client(name).peekMessages({ numberOfMessages: 32 });
      return peeked.peekedMessageItems.map((item) => item.messageText);
    },
    async drain(name) {
      const messages: unknown[] = [];
      for (;;) {
        const received = await client(name).receiveMessages({ numberOfMessages: 32 });
        if (received.receivedMessageItems.length === 0) return messages;
        for (const item of received.receivedMessageItems) {
          messages.push(JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')));
          await client(name).deleteMessage(item.messageId, item.popReceipt);
        }
      }
    },
  };
}

describeJobQueueContract('Storage queues on Azurite', storageQueueHarness);

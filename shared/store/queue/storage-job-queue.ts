import type { QueueServiceClient } from '@azure/storage-queue';
import type { StorageNames } from '../../config/settings.js';
import type { JobQueue, JobQueueName, SendOptions } from '../../sync/ports.js';

/** Job messages as base64 JSON, the Functions host's default queue encoding (host.json messageEncoding). */
export class StorageJobQueue implements JobQueue {
  constructor(
    private readonly queues: QueueServiceClient,
    private readonly names: StorageNames,
  ) {}

  async send(queue: JobQueueName, message: unknown, options: SendOptions = {}): Promise<void> {
    const text = Buffer.from(JSON.stringify(message)).toString('base64');
    const { delaySeconds } = options;
    await this.queues.getQueueClient(this.queueName(queue)).sendMessage(text, delaySeconds ? { visibilityTimeout: Math.ceil(delaySeconds) } : {});
  }

  private queueName(queue: JobQueueName): string {
    switch (queue) {
      case 'pages':
        return this.names.pagesQueue;
      case 'reconcile':
        return this.names.reconcileQueue;
      case 'finalise':
        return this.names.finaliseQueue;
    }
  }
}

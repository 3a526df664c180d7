import type { TableClient } from '@azure/data-tables';
import type { LicenceLedger } from '../../sync/ports.js';
import { AppError } from '../../errors/app-error.js';
import { statusOf, withEtagRetry } from './keys.js';

const PARTITION = 'licence';
const ROW = 'seats';
/**
 * How much of the operation ids is remembered for idempotence (the newest, as JSON): a string property holds at
 * most 64 KiB, 32,768 UTF-16 characters, and a longer one fails every write. About 1,100 of a SCIM request's ids
 * (27 characters each), more than the retries of the pushes and the shard jobs in flight.
 */
const REMEMBERED_CHARS = 30_000;
/** Tries of one change while others change the row first. */
const TRIES = 50;

interface LedgerEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  used: number;
  /** JSON object: operation id → seats it took (negative: freed), oldest first. */
  operations: string;
}

/** One row, changed with ETags; its `operations` make every change happen once. */
export class TableLicenceLedger implements LicenceLedger {
  constructor(
    private readonly table: TableClient,
    readonly limit: number | undefined,
  ) {}

  async take(operationId: string, wanted: number): Promise<number> {
    if (wanted <= 0) return 0;
    return this.change(operationId, (used) => (this.limit === undefined ? wanted : Math.max(0, Math.min(wanted, this.limit - used))));
  }

  async release(operationId: string, count: number): Promise<void> {
    if (count > 0) await this.change(operationId, (used) => -Math.min(count, used));
  }

  async used(): Promise<number> {
    return (await this.read())?.used ?? 0;
  }

  async reset(used: number): Promise<void> {
    await this.table.upsertEntity({ partitionKey: PARTITION, rowKey: ROW, used, operations: '{}' }, 'Replace');
  }

  /** Applies `delta(used)` once for the operation id; returns the recorded delta. */
  private change(operationId: string, delta: (used: number) => number): Promise<number> {
    return withEtagRetry(async () => {
      const entity = await this.read();
      const operations = JSON.parse(entity?.operations ?? '{}') as Record<string, number>;
      if (operationId in operations) return Math.abs(operations[operationId]!);
      const used = entity?.used ?? 0;
      const amount = delta(used);
      operations[operationId] = amount;
      const next = { partitionKey: PARTITION, rowKey: ROW, used: used + amount, operations: newest(operations, REMEMBERED_CHARS) };
      if (entity?.etag) await this.table.updateEntity(next, 'Replace', { etag: entity.etag });
      else await this.table.createEntity(next);
      return Math.abs(amount);
    }, TRIES).catch((error: unknown) => {
      // Many writers at once (a provider's burst of SCIM creates) can outlast the tries: the caller retries later.
      const status = statusOf(error);
      if (status !== 412 && status !== 409) throw error;
      throw new AppError('licences-busy', `The licence count changed under ${TRIES} tries in a row; try again in a moment.`, { transient: true });
    });
  }

  private async read(): Promise<LedgerEntity | undefined> {
    try {
      return await this.table.getEntity<LedgerEntity>(PARTITION, ROW);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}

/** The newest operations (insertion order is oldest first) whose JSON fits in `chars`. */
function newest(operations: Record<string, number>, chars: number): string {
  const entries = Object.entries(operations);
  let length = 2; // {}
  let first = entries.length;
  while (first > 0) {
    const [id, amount] = entries[first - 1]!;
    const entry = JSON.stringify(id).length + 1 + String(amount).length + 1; // "id":amount,
    if (length + entry > chars) break;
    length += entry;
    first -= 1;
  }
  return JSON.stringify(Object.fromEntries(entries.slice(first)));
}

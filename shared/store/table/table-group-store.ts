import type { TableClient } from '@azure/data-tables';
import type { Group, GroupStore } from '../../sync/ports.js';
import { encodeKey, statusOf, withoutServiceColumns } from './keys.js';

const PARTITION = 'group';

/** Groups, one row each (names unique case-insensitively). A few thousand at most: one partition. */
export class TableGroupStore implements GroupStore {
  constructor(private readonly table: TableClient) {}

  async createIfAbsent(group: Group): Promise<boolean> {
    try {
      await this.table.createEntity({ partitionKey: PARTITION, rowKey: rowKeyOf(group.name), ...group });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  async put(group: Group): Promise<void> {
    // Replace, so a field the group no longer has (a renamed group's id) is gone; an undefined one is no column.
    const columns = Object.fromEntries(Object.entries(group).filter(([, value]) => value !== undefined));
    await this.table.upsertEntity({ partitionKey: PARTITION, rowKey: rowKeyOf(group.name), ...columns }, 'Replace');
  }

  async get(name: string): Promise<Group | undefined> {
    try {
      return groupOf(await this.table.getEntity<Group>(PARTITION, rowKeyOf(name)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async list(): Promise<Group[]> {
    const groups: Group[] = [];
    for await (const entity of this.table.listEntities<Group>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } })) groups.push(groupOf(entity));
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  }

  async delete(name: string): Promise<void> {
    try {
      await this.table.deleteEntity(PARTITION, rowKeyOf(name));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }
}

function rowKeyOf(name: string): string {
  return encodeKey(name.toLowerCase());
}

function groupOf(entity: Group & { partitionKey?: string; rowKey?: string }): Group {
  const { partitionKey: _partition, rowKey: _row, ...group } = withoutServiceColumns(entity);
  return group;
}

import type { AuditRecord, AuditStamp } from '../../audit/audit-log.js';
import pLimit from 'p-limit';
import type { SyncDependencies } from '../dependencies.js';
import { shardsOf } from '../rules/partitioning.js';
import { ManagerIndex, type OrgNode } from '../rules/org-chart.js';
import type { Run } from '../run-model.js';

/**
 * Finalise's org-chart step: resolves every user's manager to the manager's user within the
 * directory and writes only the links that changed. Reports managers it cannot find and cycles.
 * The directory is read three times, a few shards at a time, and only its managers are held: what
 * finalise holds stays the same however large the directory (see ManagerIndex).
 */
export async function linkManagers(deps: SyncDependencies, run: Run, stamp: AuditStamp): Promise<{ linksChanged: number }> {
  const index = new ManagerIndex();
  await eachShard(deps, run, async (nodes) => nodes.forEach((node) => index.want(node)));
  await eachShard(deps, run, async (nodes) => nodes.forEach((node) => index.see(node)));
  const base = { runId: run.runId, connection: run.connection, ...stamp };
  let linksChanged = 0;
  await eachShard(deps, run, async (nodes) => {
    const changes: { key: string; managerKey?: string }[] = [];
    const unresolved: AuditRecord[] = [];
    for (const node of nodes) {
      const managerKey = index.resolve(node);
      if (managerKey !== node.managerKey) changes.push(managerKey ? { key: node.key, managerKey } : { key: node.key });
      if (node.manager && managerKey === undefined) {
        const manager = node.manager.trim();
        unresolved.push({
          ...base,
          action: 'manager-unresolved',
          subject: node.key,
          username: node.username,
          reason: 'manager-not-synced',
          detail: `The manager "${manager}" of "${node.username}" is not a user of this directory; the org chart link is left empty.`,
        });
      }
    }
    await deps.users.setManagerLinks(run.directoryKey, changes);
    await deps.audit.write(unresolved);
    linksChanged += changes.length;
  });
  const usernameOf = (key: string) => index.usernameOf(key) ?? key;
  await deps.audit.write(
    index.cycles().map(
      (cycle): AuditRecord => ({
        ...base,
        action: 'manager-cycle',
        subject: cycle[0]!,
        username: usernameOf(cycle[0]!),
        reason: 'manager-cycle',
        detail: `Managers form a cycle: ${[...cycle, cycle[0]!].map(usernameOf).join(' → ')}. The links are kept as the directory gives them; fix them there.`,
      }),
    ),
  );
  return { linksChanged };
}

/** Reads the directory's shards a few at a time, one range query each, keeping only org-chart nodes of each. */
async function eachShard(deps: SyncDependencies, run: Run, visit: (nodes: OrgNode[]) => Promise<void>): Promise<void> {
  const shards = shardsOf(run);
  const limit = pLimit(4);
  await Promise.all(
    Array.from({ length: shards }, (_, shard) =>
      limit(async () =>
        visit(
          (await deps.users.listShard(run.directoryKey, shard, shards)).map(
            (user): OrgNode => ({ key: user.key, username: user.username, ...(user.manager ? { manager: user.manager } : {}), ...(user.managerKey ? { managerKey: user.managerKey } : {}) }),
          ),
        ),
      ),
    ),
  );
}

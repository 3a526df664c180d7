import type { AuditRecord, AuditStamp } from '../../audit/audit-log.js';
import pLimit from 'p-limit';
import type { SyncDependencies } from '../dependencies.js';
import { shardsOf } from '../rules/partitioning.js';
import { resolveOrgChart, type OrgNode } from '../rules/org-chart.js';
import type { Run } from '../run-model.js';

/**
 * Finalise's org-chart step: resolves every user's manager to the manager's user within the
 * directory and writes only the links that changed. Reports managers it cannot find and cycles.
 */
export async function linkManagers(deps: SyncDependencies, run: Run, stamp: AuditStamp): Promise<{ linksChanged: number }> {
  // Shards are read a few at a time, one range query each, and kept only as org-chart nodes, not whole users.
  const limit = pLimit(4);
  const shards = await Promise.all(
    Array.from({ length: shardsOf(run) }, (_, shard) =>
      limit(async () =>
        (await deps.users.listShard(run.directoryKey, shard, shardsOf(run))).map(
          (user): OrgNode => ({ key: user.key, username: user.username, ...(user.manager ? { manager: user.manager } : {}), ...(user.managerKey ? { managerKey: user.managerKey } : {}) }),
        ),
      ),
    ),
  );
  const nodes = shards.flat();
  const chart = resolveOrgChart(nodes);
  const changes = nodes
    .filter((node) => chart.managerOf.get(node.key) !== node.managerKey)
    .map((node) => {
      const managerKey = chart.managerOf.get(node.key);
      return managerKey ? { key: node.key, managerKey } : { key: node.key };
    });
  await deps.users.setManagerLinks(run.directoryKey, changes);

  const usernameOf = new Map(nodes.map((node) => [node.key, node.username]));
  const base = { runId: run.runId, connection: run.connection, ...stamp };
  const notes: AuditRecord[] = [
    ...chart.unresolved.map(
      (missing): AuditRecord => ({
        ...base,
        action: 'manager-unresolved',
        subject: missing.key,
        username: missing.username,
        reason: 'manager-not-synced',
        detail: `The manager "${missing.manager}" of "${missing.username}" is not a user of this directory; the org chart link is left empty.`,
      }),
    ),
    ...chart.cycles.map(
      (cycle): AuditRecord => ({
        ...base,
        action: 'manager-cycle',
        subject: cycle[0]!,
        username: usernameOf.get(cycle[0]!) ?? cycle[0]!,
        reason: 'manager-cycle',
        detail: `Managers form a cycle: ${[...cycle, cycle[0]!].map((key) => usernameOf.get(key) ?? key).join(' → ')}. The links are kept as the directory gives them; fix them there.`,
      }),
    ),
  ];
  await deps.audit.write(notes);
  return { linksChanged: changes.length };
}

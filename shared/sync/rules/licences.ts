import type { Decision, StoredUser } from '../model.js';
import type { PlannedDecision } from './decide.js';
import { statusChange } from './field-changes.js';

/**
 * Licences: active users of every directory and local accounts count; disabled and blocked ones do
 * not. Pure helpers over a shard's decisions; the ledger that hands out seats is a port.
 */

/** How many licences the decisions would take. */
export function seatsWanted(decisions: readonly PlannedDecision[]): number {
  return decisions.filter((decision) => 'seat' in decision && decision.seat === 1).length;
}

/** How many licences the decisions free. */
export function seatsFreed(decisions: readonly PlannedDecision[]): number {
  return decisions.filter((decision) => 'seat' in decision && decision.seat === -1).length;
}

/**
 * Gives `granted` licences to the users that want one, in key order (so a redelivered job decides the
 * same); the others are still created or re-enabled, but blocked.
 */
export function grantSeats(decisions: readonly PlannedDecision[], granted: number): PlannedDecision[] {
  const wanting = decisions
    .filter((decision) => 'seat' in decision && decision.seat === 1)
    .map((decision) => decision.key as string)
    .sort();
  const refused = new Set(wanting.slice(Math.max(0, granted)));
  return decisions.map((decision) => {
    if (!('seat' in decision) || decision.seat !== 1 || !refused.has(decision.key)) return decision;
    const { seat: _seat, ...rest } = decision;
    return {
      ...rest,
      user: { ...decision.user, status: 'blocked' },
      // A re-enabled user without a licence goes from disabled to blocked (its status change comes first).
      ...(rest.changes ? { changes: rest.changes.map((change, index) => (index === 0 && change.field === 'status' ? { ...change, to: 'blocked' } : change)) } : {}),
      reason: 'licence-limit',
    };
  });
}

/** A blocked user given a licence that freed up: the one shape of an activation (a run's finalise, a pushed directory). */
export function activationOf(user: StoredUser, at: string): Extract<Decision, { user: StoredUser }> {
  return {
    action: 'activate',
    key: user.key,
    ref: user.sourceRef,
    user: { ...user, status: 'active', updatedAt: at },
    changedFields: ['status'],
    changes: [statusChange('blocked', 'active')],
    reason: 'licence-available',
  };
}

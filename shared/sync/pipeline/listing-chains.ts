import { listingConcurrencyOf } from '../../connections/profile.js';
import type { RunError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { MAIN_CHAIN, type ListingChain, type Run } from '../run-model.js';

/*
 * A run's listing is read as several chains of page jobs at once (a directory's users, shares of its groups'
 * members, managers: see DirectorySource.chains). Page and manager entries are staged by the user's key and
 * folded in the user's shard, so the order pages arrive in does not matter to reconcile. Each chain's state is
 * on the run row (changed with its ETag like the rest): at most the connection's listingConcurrency chains
 * list at once, the rest wait; the listing ends once every chain has ended, failed if any chain failed.
 */

/** A run's chains; a run started before listings had chains has the one chain `main`. */
export function chainsOf(run: Run): Record<string, ListingChain> {
  return run.chains ?? { [MAIN_CHAIN]: { state: 'listing', pages: run.pagesFetched } };
}

/** The chains of a run about to list, as its source names them: the first listingConcurrency list, the rest wait. */
export function initialChains(deps: SyncDependencies, run: Run): Record<string, ListingChain> {
  const names = deps.sources(run.profile).chains?.(run) ?? [MAIN_CHAIN];
  const concurrency = listingConcurrencyOf(run.profile);
  return Object.fromEntries(names.map((name, index): [string, ListingChain] => [name, { state: index < concurrency ? 'listing' : 'waiting', pages: 0 }]));
}

/** Queues the first page of each chain named. */
export async function startChains(deps: SyncDependencies, runId: string, chains: readonly string[]): Promise<void> {
  await Promise.all(chains.map((chain) => deps.queue.send('pages', { runId, chain, page: 0, cursor: null })));
}

/** The run with `pages` pages of `chain` read, or undefined when it had counted them already (a redelivery). */
export function withPagesRead(run: Run, chain: string, pages: number): Run | undefined {
  const chains = chainsOf(run);
  const current = chains[chain];
  if (!current || current.pages >= pages) return undefined;
  const next = { ...chains, [chain]: { ...current, pages } };
  return { ...run, chains: next, pagesFetched: Object.values(next).reduce((sum, { pages: read }) => sum + read, 0) };
}

/**
 * The run once `chain` has ended: waiting chains start as places free up (`started`: queue their first
 * page), and once no chain lists or waits the listing ends, failed if any chain did (with the first failed
 * chain's error) — so a failed chain still lets the others' users sync, and finalise disables no one.
 * Undefined when the chain is not listing (a redelivery after it ended).
 */
export function withChainEnded(run: Run, chain: string, outcome: 'complete' | 'failed', error?: RunError): { run: Run; started: string[] } | undefined {
  const chains = chainsOf(run);
  const current = chains[chain];
  if (current?.state !== 'listing') return undefined;
  const next: Record<string, ListingChain> = { ...chains, [chain]: { ...current, state: outcome, ...(error ? { error } : {}) } };
  const free = listingConcurrencyOf(run.profile) - Object.values(next).filter(({ state }) => state === 'listing').length;
  const started = Object.keys(next)
    .filter((name) => next[name]!.state === 'waiting')
    .slice(0, Math.max(0, free));
  for (const name of started) next[name] = { ...next[name]!, state: 'listing' };
  const states = Object.values(next);
  if (states.some(({ state }) => state === 'listing' || state === 'waiting')) return { run: { ...run, chains: next }, started };
  const failed = states.find(({ state }) => state === 'failed');
  return {
    run: { ...run, chains: next, listing: failed ? 'failed' : 'complete', state: 'reconciling', ...(failed?.error ? { error: failed.error } : {}) },
    started,
  };
}

/**
 * Redelivered after its chain ended: the chains its end started may not have been queued before a crash.
 * A listing chain without its first page recorded is queued again (a second copy of a first page is harmless:
 * page records are insert-if-absent).
 */
export async function resumeChains(deps: SyncDependencies, run: Run): Promise<void> {
  const listing = Object.entries(chainsOf(run)).filter(([, { state }]) => state === 'listing');
  const unstarted = await Promise.all(listing.map(async ([name]) => ((await deps.runs.getPage(run.runId, name, 0)) ? [] : [name])));
  await startChains(deps, run.runId, unstarted.flat());
}

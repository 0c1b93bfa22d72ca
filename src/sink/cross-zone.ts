/** One run of a reaction across zones: a claim in the shared store of record, skipped (run locally) when it is down. */
import type { Logger } from 'pino';
import type { Reaction, ReactionEvent } from '../core/types.js';
import type { ClaimVerdict, Store } from '../store/store.js';
import { reactionBudget, type Budget } from '../core/budget.js';

/** What the sink needs of the store: the cross-zone claim. */
export type ReactionClaims = Pick<Store, 'claimReaction'>;

/** Zones see a status change at slightly different times: a run this long before our episode began is the same episode. */
export const EPISODE_SKEW_MS = 30_000;

/**
 * Asks the store whether this zone runs the reaction (its frequency, once-per-episode, budget and target's budget
 * counted over every zone); when the store cannot answer, the run goes ahead on this zone's claim alone.
 */
export async function claimAcrossZones(
  claims: ReactionClaims, reaction: Reaction, event: ReactionEvent, now: number, episodeStart: number, target: Budget | undefined, log: Logger,
): Promise<ClaimVerdict> {
  const budget = reactionBudget(reaction);
  try {
    return await claims.claimReaction({
      monitorId: event.monitor.id, reactionId: reaction.id, now, frequencyMs: reaction.frequency * 1000,
      once: reaction.once, status: event.status, episodeStart: episodeStart - EPISODE_SKEW_MS,
      ...(budget ? { budget: { maxRuns: budget.maxRuns, perMs: budget.per * 1000 } } : {}),
      ...(reaction.target && target ? { target: { name: reaction.target, maxRuns: target.maxRuns, perMs: target.per * 1000 } } : {}),
    });
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'store of record unreachable for the cross-zone claim; running the reaction from this zone');
    return 'run';
  }
}

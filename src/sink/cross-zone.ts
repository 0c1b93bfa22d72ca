/** One run of a reaction across zones: a claim in the shared store of record, skipped (run locally) when it is down. */
import type { Logger } from 'pino';
import type { Reaction, ReactionEvent } from '../core/types.js';
import type { Store } from '../store/store.js';

/** What the sink needs of the store: the cross-zone claim. */
export type ReactionClaims = Pick<Store, 'claimReaction'>;

/** Zones see a status change at slightly different times: a run this long before our episode began is the same episode. */
export const EPISODE_SKEW_MS = 30_000;

/** Asks the store whether this zone runs the reaction; when the store cannot answer, the run goes ahead. */
export async function claimAcrossZones(claims: ReactionClaims, reaction: Reaction, event: ReactionEvent, now: number, episodeStart: number, log: Logger): Promise<boolean> {
  try {
    const ok = await claims.claimReaction({
      monitorId: event.monitor.id, reactionId: reaction.id, now, frequencyMs: reaction.frequency * 1000,
      once: reaction.once, status: event.status, episodeStart: episodeStart - EPISODE_SKEW_MS,
    });
    if (!ok) log.info({ status: event.status }, 'reaction already run from another zone; not run here');
    return ok;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'store of record unreachable for the cross-zone claim; running the reaction from this zone');
    return true;
  }
}

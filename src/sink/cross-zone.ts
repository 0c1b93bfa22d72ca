/** One run of a reaction across zones: a claim in the shared store of record, skipped (run locally) when it is down. */
import type { Logger } from 'pino';
import type { Reaction, ReactionEvent, Status } from '../core/types.js';

/** A claim on running `reactionId` for `monitorId` now, decided atomically by the store of record. */
export interface ReactionClaim {
  monitorId: string;
  reactionId: string;
  now: number;
  frequencyMs: number;
  once: boolean;
  status: Status;
  /** When this zone's current episode began; a once-reaction that ran after it (in any zone) does not run again. */
  episodeStart: number;
}

export interface ReactionClaims {
  /** True when this run may go ahead (and records it); false when another zone ran it within the rules. */
  claimReaction(claim: ReactionClaim): Promise<boolean>;
}

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

/**
 * A fix's closed loop. After a fix runs, its monitor is checked every verifyEvery seconds for verifyFor seconds (the
 * zone's Redis holds the verification; see startVerification-3.lua); the first healthy result after the run makes it
 * `fixed`, a result past the window with none makes it `not-fixed`. Consecutive not-fixed runs open the fix's
 * breaker for that monitor, which closes after the monitor has been healthy for breakerReset.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../core/keys.js';
import type { Reaction, Status } from '../core/types.js';

/** A verification in progress, as kept in the zone's Redis. */
export interface Verification {
  token: string;
  reactionId: string;
  /** When the fix ran and when the window ends (Redis's clock, ms). */
  runAt: number;
  until: number;
  everyMs: number;
  episode: number;
}

/** A fix's breaker for one monitor. */
export interface Breaker {
  /** Consecutive runs that did not fix the monitor. */
  notFixed: number;
  /** When it opened (ms); absent while closed. */
  openedAt?: number;
  lastMessage?: string;
  /** For a rung of a ladder: the episode in which the rung before it escalated (it acts as a fix in that episode). */
  rungEpisode?: number;
}

/** Whether `reaction` is verified after it runs. */
export function verifies(reaction: Reaction): boolean {
  return reaction.kind === 'fix' && (reaction.verifyFor ?? 0) > 0;
}

export function parseJson<T>(text: string | null | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Starts verifying `reaction`'s run at `runAt` for monitor `monitorId`; undefined when another verification of the monitor runs. */
export async function startVerification(redis: Redis, k: Keys, monitorId: string, reaction: Reaction, runAt: number, episode: number): Promise<Verification | undefined> {
  const everyMs = (reaction.verifyEvery ?? 5) * 1000;
  const v: Verification = { token: randomUUID(), reactionId: reaction.id, runAt, until: runAt + (reaction.verifyFor ?? 0) * 1000, everyMs, episode };
  // It lasts its window and one more check at most; a result past the window settles it before that.
  const ttl = v.until - runAt + everyMs + 60_000;
  return (await redis.startVerification(k.verification(monitorId), k.intervals, k.schedule, monitorId, JSON.stringify(v), ttl, everyMs, runAt)) === 1 ? v : undefined;
}

/**
 * What a result says of a verification: `fixed` for a healthy result of a check due after the run, `not-fixed` for
 * one due past the window, undefined while it goes on. Due slots are the schedule's, on Redis's clock.
 */
export function judge(v: Verification, result: { status: Status; due: number }): 'fixed' | 'not-fixed' | undefined {
  if (result.due < v.runAt) return undefined;
  if (result.status === 'healthy') return 'fixed';
  return result.due >= v.until ? 'not-fixed' : undefined;
}

/** Ends verification `v` of `monitorId`, putting its interval back; true for the one caller that ended it. */
export async function endVerification(redis: Redis, k: Keys, monitorId: string, v: Verification, intervalS: number): Promise<boolean> {
  return (await redis.endVerification(k.verification(monitorId), k.intervals, monitorId, v.token, Math.round(intervalS * 1000))) === 1;
}

/**
 * The sink's decisions for one reaction and one result, and the audit entry each leaves in the events stream: why
 * a reaction ran, failed, or was skipped (its own rules: frequency, once) or held (a bound: its budget, its target's
 * budget, a full queue). A skip or a hold is recorded the first time its reason holds in an episode and counted
 * every time, so a monitor failing for hours leaves one line per reason, not one per result.
 */
import type { Redis } from 'ioredis';
import { budgetText, reactionBudget, type Budget } from '../core/budget.js';
import { formatDuration } from '../core/duration.js';
import type { Counters } from '../core/counters.js';
import type { Keys } from '../core/keys.js';
import { DEFAULT_TARGET_BUDGET } from '../core/limits.js';
import type { RedisClock } from '../core/redis-clock.js';
import { DECISION_REASONS, type Decision, type DecisionReason, type Reaction, type ReactionEvent } from '../core/types.js';

/** What the zone's Redis decided: run now (claimed at `now`, with the target's budget it counted against), or not and why (a spent target: its budget). */
export type ZoneClaim = { run: true; now: number; target?: Budget } | { run: false; reason: 'once' | 'frequency' | 'budget' | 'target-budget'; target?: Budget };

const budgetArg = (b: Budget) => `${b.maxRuns} ${b.per * 1000}`;

function parseBudget(text: string | undefined): Budget | undefined {
  const m = /^(\d+) (\d+)$/.exec(text ?? '');
  return m ? { maxRuns: Number(m[1]), per: Number(m[2]) / 1000 } : undefined;
}

/**
 * Claims the run in the zone's Redis: once, frequency, the reaction's budget, then its target's. Judged at Redis's
 * time (TIME in the script), unless `at` gives one.
 */
export async function claimInZone(redis: Redis, k: Keys, reaction: Reaction, monitorId: string, episode: number, at: number | '' = ''): Promise<ZoneClaim> {
  const budget = reactionBudget(reaction);
  const target = reaction.target ?? '';
  const [verdict, now, used] = await redis.claimReaction(
    k.reactionState(monitorId, reaction.id), k.targetRuns(target), k.targets, at, reaction.frequency * 1000, reaction.once ? '1' : '0', episode,
    budget ? budget.maxRuns : '', budget ? budget.per * 1000 : 0, target, budgetArg(DEFAULT_TARGET_BUDGET), `${monitorId}|${reaction.id}`,
  );
  if (verdict === 'run') return { run: true, now: Number(now), ...(target ? { target: parseBudget(used) ?? DEFAULT_TARGET_BUDGET } : {}) };
  if (verdict === 'target-budget') return { run: false, reason: verdict, target: parseBudget(used) ?? DEFAULT_TARGET_BUDGET };
  return { run: false, reason: verdict as Exclude<ZoneClaim, { run: true }>['reason'] };
}

/** Why a reaction did not run, in words for the audit. */
export function refusalMessage(reason: DecisionReason, reaction: Reaction, where: 'zone' | 'store', target?: Budget): string {
  const across = where === 'store' ? ' (the store of record counts every zone)' : '';
  switch (reason) {
    case 'once':
      return `not run: it already ran in this episode (once per episode)${across}`;
    case 'frequency':
      return `not run: it ran less than ${formatDuration(reaction.frequency)} ago (frequency)${across}`;
    case 'other-zone':
      return 'not run here: another zone ran it for this episode';
    case 'budget':
      return `held: its budget of ${budgetText(reaction)} for this monitor is spent${across}`;
    case 'target-budget':
      return `held: target ${reaction.target} has spent its budget of ${budgetText(target ?? DEFAULT_TARGET_BUDGET)}, shared by every reaction naming it${across}`;
    case 'queue-full':
      return `held: too many ${reaction.rtype} reactions already wait for a slot (the ${reaction.rtype} target is slow or down)`;
    case 'verifying':
      return 'held: its last run is being verified (the monitor is checked again until it is healthy or the window ends)';
    case 'breaker-open':
      return `held: its breaker is open for this monitor after ${reaction.breaker ?? 0} runs that did not fix it (it closes after ${formatDuration(reaction.breakerReset ?? 0)} healthy, or "cloudroutes reaction reset ${reaction.id}")`;
  }
}

/** One decision for the audit. */
export interface DecisionEntry {
  event: Omit<ReactionEvent, 'reaction'>;
  reactionId: string;
  decision: Decision;
  reason?: DecisionReason;
  message: string;
  episode: number;
  /** Due slot of the result that led to it (absent for a decision no result led to, e.g. a breaker reset by hand). */
  due?: number;
  /** See EventRecord.tookMs. */
  tookMs?: number;
}

/** Appends decision `d` to the zone's events stream, stamped `at` (Redis's clock). */
export async function writeDecision(redis: Redis, k: Keys, zone: string, at: number, d: DecisionEntry): Promise<void> {
  const e = d.event;
  await redis.xadd(k.events, '*', 'kind', 'reaction', 'monitorId', e.monitor.id, 'zone', zone, 'at', String(at),
    'status', e.status, 'previousStatus', e.previousStatus ?? '', 'failcount', String(e.failcount),
    'reactionId', d.reactionId, 'outcome', d.decision, 'reason', d.reason ?? '', 'episode', String(d.episode), 'due', d.due === undefined ? '' : String(d.due),
    'tookMs', d.tookMs === undefined ? '' : String(Math.round(d.tookMs)), 'message', d.message);
}

/** Writes decisions to the zone's events stream (the bridge carries them to the store of record) and counts them. */
export class DecisionLog {
  constructor(private readonly redis: Redis, private readonly k: Keys, private readonly zone: string, private readonly clock: RedisClock, private readonly counters: Counters) {}

  async record(d: DecisionEntry): Promise<void> {
    this.count(d);
    await this.write(d);
  }

  /** Records `d` only the first time `what` holds for this monitor, reaction and episode (true then); counts it every time. */
  async recordFirst(d: DecisionEntry, what: string): Promise<boolean> {
    this.count(d);
    const key = this.k.reactionNoted(d.event.monitor.id, d.reactionId, what);
    const before = await this.redis.set(key, String(d.episode), 'EX', 7 * 86_400, 'GET');
    if (before === String(d.episode)) return false;
    await this.write(d);
    return true;
  }

  /** Whether `decision` is the one a refusal for `reason` makes. */
  static decisionOf(reason: DecisionReason): Decision {
    return DECISION_REASONS[reason];
  }

  private count(d: DecisionEntry): void {
    this.counters.inc(`reactions.${d.decision}`);
    if (d.reason) this.counters.inc(`reactions.${d.decision}_${d.reason.replace(/-/g, '_')}`);
  }

  private write(d: DecisionEntry): Promise<void> {
    return writeDecision(this.redis, this.k, this.zone, this.clock.now(), d);
  }
}

/** Targets: the budget every reaction naming one shares; set, listed, shown with its runs and removed (the CLI and the API). */
import type { Redis } from 'ioredis';
import { budgetText } from '../core/budget.js';
import { parseDuration } from '../core/duration.js';
import { errors } from '../core/errors.js';
import { keys } from '../core/keys.js';
import { DEFAULT_TARGET_BUDGET, perProblem } from '../core/limits.js';
import { targetRecordError } from '../core/record-check.js';
import type { Reaction, Target } from '../core/types.js';
import type { Store } from '../store/store.js';

export interface TargetInput {
  maxRuns: unknown;
  /** A duration: 10m, 1h, or seconds. */
  per: unknown;
}

/** A target as shown: its budget (the default while none is set) and the reactions naming it. */
export interface TargetView {
  name: string;
  maxRuns: number;
  /** Window, seconds. */
  per: number;
  /** No budget was set: the default (1 run per 1h) applies. */
  default: boolean;
  reactions: { id: string; name: string }[];
  createdAt?: number;
  updatedAt?: number;
}

/** One run counted in a target's budget in a zone's Redis. */
export interface TargetRun {
  monitorId: string;
  reactionId: string;
  /** Epoch ms. */
  at: number;
}

export interface TargetDetail extends TargetView {
  zone: string;
  /** The runs inside the window in the zone's Redis, newest first. */
  runs: TargetRun[];
}

/** Target `name` with budget `input` as it would be stored (without its times); errors name the field (name, maxRuns, per). */
export function checkTarget(name: string, input: TargetInput): Pick<Target, 'name' | 'maxRuns' | 'per'> {
  // A bad window is named as given ("500ms"), not as parsed.
  const badPer = (problem: string) => {
    const e = errors.badSetting('per', String(input.per).slice(0, 40), problem);
    e.field = 'per';
    return e;
  };
  let per: unknown = input.per;
  if (typeof per === 'string' || typeof per === 'number') {
    try {
      per = parseDuration(per);
    } catch (err) {
      throw badPer((err as Error).message);
    }
  }
  const fields = { name, maxRuns: input.maxRuns as number, per: per as number };
  const refused = targetRecordError(fields);
  if (refused) throw refused.field === 'per' ? badPer(perProblem(per)!) : refused;
  return fields;
}

const viewOf = (name: string, stored: Target | undefined, reactions: Reaction[]): TargetView => ({
  name,
  ...(stored ? { maxRuns: stored.maxRuns, per: stored.per, default: false } : { ...DEFAULT_TARGET_BUDGET, default: true }),
  reactions: reactions.filter((r) => r.target === name).map((r) => ({ id: r.id, name: r.name })),
  ...(stored ? { createdAt: stored.createdAt, updatedAt: stored.updatedAt } : {}),
});

/** What removing a target's budget means for the reactions still naming it. */
export function removalNote(reactions: TargetView['reactions']): string {
  return reactions.length
    ? `still named by ${reactions.map((r) => r.id).join(', ')}: they now share the default budget of ${budgetText(DEFAULT_TARGET_BUDGET)}`
    : 'no reaction names it';
}

export class TargetService {
  constructor(private readonly store: Store) {}

  /** Creates or replaces target `name`'s budget (keeping its creation time); the bridge carries it to every zone. */
  async set(name: string, input: TargetInput): Promise<Target> {
    const fields = checkTarget(name, input);
    const existing = await this.store.getTarget(name);
    const now = Date.now();
    const target: Target = { ...fields, createdAt: existing?.createdAt ?? now, updatedAt: now };
    await this.store.putTarget(target);
    return target;
  }

  /** Every target set or named by a reaction, by name. */
  async list(): Promise<TargetView[]> {
    const [stored, reactions] = await Promise.all([this.store.listTargets(), this.store.listReactions()]);
    const byName = new Map(stored.map((t) => [t.name, t]));
    const names = new Set([...byName.keys(), ...reactions.flatMap((r) => (r.target === undefined ? [] : [r.target]))]);
    return [...names].sort().map((name) => viewOf(name, byName.get(name), reactions));
  }

  /** Target `name` with the runs zone `zone`'s Redis counts inside its window; CR_NO_SUCH_TARGET when it is neither set nor named. */
  async show(name: string, redis: Redis, zone: string): Promise<TargetDetail> {
    const [stored, reactions] = await Promise.all([this.store.getTarget(name), this.store.listReactions()]);
    const view = viewOf(name, stored, reactions);
    if (!stored && view.reactions.length === 0) throw errors.noSuchTarget(name);
    return { ...view, zone, runs: await runsInWindow(redis, zone, name, view.per * 1000) };
  }

  /** Removes target `name`'s budget; returns the reactions naming it, which now have the default budget. */
  async remove(name: string): Promise<TargetView['reactions']> {
    if (!(await this.store.deleteTarget(name))) throw errors.noSuchTarget(name);
    return viewOf(name, undefined, await this.store.listReactions()).reactions;
  }
}

/** Members "<monitorId>|<reactionId>|<ms>" of the target's runs ZSET scored after Redis's now - windowMs (claimReaction-3.lua). */
async function runsInWindow(redis: Redis, zone: string, name: string, windowMs: number): Promise<TargetRun[]> {
  const [s, us] = await redis.time();
  const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
  const found = await redis.zrevrangebyscore(keys(zone).targetRuns(name), '+inf', `(${now - windowMs}`, 'WITHSCORES');
  const runs: TargetRun[] = [];
  for (let i = 0; i < found.length; i += 2) {
    const parts = found[i]!.split('|');
    runs.push({ monitorId: parts.slice(0, -2).join('|'), reactionId: parts[parts.length - 2] ?? '', at: Number(found[i + 1]) });
  }
  return runs;
}


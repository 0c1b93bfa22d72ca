/**
 * What the sink does with a recorded result of a monitor that names reactions: settles the monitor's verification
 * and breakers (the closed loop of fixes, see ./verification.ts), then decides each reaction (rules, breaker,
 * verification, budgets in the zone's Redis and in the store) and runs those that go ahead off the result chain.
 * Every decision taken once a reaction's call-on and trigger match is recorded with its reason (./decisions.ts).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { budgetText, type Budget } from '../core/budget.js';
import { commandRefusal, type CommandPolicy } from '../core/command-policy.js';
import type { Counters } from '../core/counters.js';
import { formatDuration } from '../core/duration.js';
import type { Keys } from '../core/keys.js';
import { rungsTo } from '../core/ladder.js';
import { monitorHref } from '../core/links.js';
import { webBaseUrl } from '../manage/told-urls.js';
import type { PluginLoader } from '../core/plugins.js';
import type { RedisClock } from '../core/redis-clock.js';
import type { Decision, DecisionReason, Monitor, Reaction, ReactionEvent, ReactionModule, Status } from '../core/types.js';
import { claimAcrossZones, type ReactionClaims } from './cross-zone.js';
import { claimInZone, DecisionLog, refusalMessage, type DecisionEntry } from './decisions.js';
import type { ReactionRunner } from './reaction-runner.js';
import { shouldRun } from './rules.js';
import { runReaction } from './run-reaction.js';
import { endVerification, judge, parseJson, startVerification, verifies, type Breaker, type Verification } from './verification.js';

/** How long a breaker's state is kept without news: it closes by itself after this (30 days). */
const BREAKER_TTL_S = 30 * 86_400;

export interface ReactorDeps {
  redis: Redis;
  k: Keys;
  logger: Logger;
  counters: Counters;
  clock: RedisClock;
  decisions: DecisionLog;
  loader: PluginLoader<ReactionModule>;
  runner: ReactionRunner;
  commands: CommandPolicy;
  claims?: ReactionClaims;
  timeoutMs: number;
  secretKey?: Buffer;
  /** Told of each fix verified fixed, with the ms from its run to the healthy result (the sink's histogram). */
  onFixed?: (reactionId: string, tookMs: number) => void;
}

/** One recorded result, as the reactions of its monitor see it. */
export interface ResultSeen {
  monitor: Monitor;
  status: Status;
  previousStatus: Status | null;
  failcount: number;
  episode: number;
  episodeStart: number;
  zone: string;
  checkedAt: number;
  due: number;
  latencyMs: number | null;
  message: string;
}

/** The monitor's reactions and the state of their closed loop, read in one MGET with their configs. */
interface Scene {
  result: ResultSeen;
  event: Omit<ReactionEvent, 'reaction'>;
  reactions: Reaction[];
  verification?: Verification;
  breakers: Map<string, Breaker>;
  /** Reactions already decided for this result (a rung reached by an escalation is not decided twice). */
  decided: Set<string>;
}

interface Escalation {
  reason: string;
  reaction: { id: string; name: string };
  runs: number;
}

export class Reactor {
  constructor(private readonly d: ReactorDeps) {}

  async onResult(result: ResultSeen): Promise<void> {
    const { redis, k } = this.d;
    const ids = result.monitor.reactions;
    const got = await redis.mget([...ids.map((id) => k.reaction(id)), k.verification(result.monitor.id), ...ids.map((id) => k.breaker(result.monitor.id, id))]);
    const reactions: Reaction[] = [];
    const breakers = new Map<string, Breaker>();
    for (const [i, id] of ids.entries()) {
      const reaction = parseJson<Reaction>(got[i]);
      if (!reaction) {
        this.d.counters.inc('missing_reactions');
        this.d.logger.warn({ monitorId: result.monitor.id, reactionId: id }, 'monitor names a reaction that does not exist; remove it from the monitor or add the reaction');
        continue;
      }
      reactions.push(reaction);
      const breaker = parseJson<Breaker>(got[ids.length + 1 + i]);
      if (breaker) breakers.set(id, breaker);
    }
    const m = result.monitor;
    const scene: Scene = {
      result, reactions, breakers, verification: parseJson<Verification>(got[ids.length]), decided: new Set(),
      event: {
        monitor: { id: m.id, name: m.name, ctype: m.ctype }, status: result.status, previousStatus: result.previousStatus, failcount: result.failcount,
        zone: result.zone, checkedAt: result.checkedAt, message: result.message, incident: { startedAt: result.episodeStart, url: `${webBaseUrl()}${monitorHref(m.id)}` },
      },
    };
    await this.settleVerification(scene);
    await this.resetBreakers(scene);
    for (const reaction of reactions) {
      // Called on escalations only, or a rung not reached in this episode: nothing to decide for a plain result.
      if (reaction.callOn === 'escalated') continue;
      if (reaction.escalatesFrom && breakers.get(reaction.id)?.rungEpisode !== result.episode) continue;
      if (!scene.decided.has(reaction.id)) await this.react(scene, reaction);
    }
  }

  private entry(scene: Scene, reactionId: string, decision: Decision, message: string, reason?: DecisionReason): DecisionEntry {
    return { event: scene.event, reactionId, decision, ...(reason ? { reason } : {}), message, episode: scene.result.episode, due: scene.result.due };
  }

  /** A verification this result settles: fixed or not-fixed, recorded once by whichever sink ends it. */
  private async settleVerification(scene: Scene): Promise<void> {
    const v = scene.verification;
    const { result } = scene;
    if (!v) return;
    const outcome = judge(v, result);
    if (!outcome || !(await endVerification(this.d.redis, this.d.k, result.monitor.id, v, result.monitor.interval))) return;
    scene.verification = undefined;
    const reaction = scene.reactions.find((r) => r.id === v.reactionId);
    const name = reaction?.name ?? v.reactionId;
    const log = this.d.logger.child({ monitorId: result.monitor.id, reactionId: v.reactionId });
    const breakerKey = this.d.k.breaker(result.monitor.id, v.reactionId);
    if (outcome === 'fixed') {
      const tookMs = Math.max(0, result.due + (result.latencyMs ?? 0) - v.runAt);
      log.info({ decision: 'fixed', tookMs }, 'fix verified: the monitor is healthy again');
      this.d.onFixed?.(v.reactionId, tookMs);
      await this.d.decisions.record({ ...this.entry(scene, v.reactionId, 'fixed', `fixed: healthy ${(tookMs / 1000).toFixed(1)} s after ${name} ran`), tookMs });
      await this.d.redis.del(breakerKey);
      scene.breakers.delete(v.reactionId);
      return;
    }
    const before = scene.breakers.get(v.reactionId);
    const breaker: Breaker = { ...before, notFixed: (before?.notFixed ?? 0) + 1, lastMessage: result.message.slice(0, 300) };
    const window = formatDuration((v.until - v.runAt) / 1000);
    log.warn({ decision: 'not-fixed', notFixed: breaker.notFixed }, 'fix verified: the monitor is still not healthy');
    await this.d.decisions.record(this.entry(scene, v.reactionId, 'not-fixed',
      `not fixed: still ${result.status} ${window} after ${name} ran (${breaker.notFixed} in a row); last message: ${result.message.slice(0, 300)}`));
    const opens = reaction && breaker.notFixed >= (reaction.breaker ?? Infinity);
    if (opens) breaker.openedAt = this.d.clock.now();
    await this.d.redis.set(breakerKey, JSON.stringify(breaker), 'EX', BREAKER_TTL_S);
    scene.breakers.set(v.reactionId, breaker);
    if (opens) {
      const tried = rungsTo(scene.reactions, reaction);
      const rungs = tried.length > 1 ? ` (rungs tried: ${tried.map((r) => r.name).join(', ')})` : '';
      await this.escalate(scene, reaction, {
        reason: `${reaction.name} did not fix ${result.monitor.name} (${result.monitor.id}) after ${breaker.notFixed} runs${rungs}; last message: ${breaker.lastMessage}`,
        reaction: { id: reaction.id, name: reaction.name }, runs: breaker.notFixed,
      });
    }
  }

  /** Open breakers of a monitor healthy for their breakerReset close, recorded once. */
  private async resetBreakers(scene: Scene): Promise<void> {
    const { result } = scene;
    if (result.status !== 'healthy') return;
    for (const reaction of scene.reactions) {
      const b = scene.breakers.get(reaction.id);
      const healthyMs = this.d.clock.now() - result.episodeStart;
      if (!b?.openedAt || healthyMs < (reaction.breakerReset ?? 0) * 1000) continue;
      if (!(await this.d.redis.getdel(this.d.k.breaker(result.monitor.id, reaction.id)))) continue;
      scene.breakers.delete(reaction.id);
      this.d.logger.info({ monitorId: result.monitor.id, reactionId: reaction.id, decision: 'breaker-reset' }, 'breaker closed: the monitor has been healthy long enough');
      await this.d.decisions.record(this.entry(scene, reaction.id, 'breaker-reset',
        `breaker closed: ${result.monitor.name} healthy for ${formatDuration(Math.round(healthyMs / 1000))} (breaker-reset ${formatDuration(reaction.breakerReset ?? 0)})`));
    }
  }

  /**
   * Records that `from` escalated, and runs, with why: the next rungs after it (which then act as fixes for the rest
   * of the episode), and the reactions of the monitor called on any escalation.
   */
  private async escalate(scene: Scene, from: Reaction, escalation: Escalation): Promise<void> {
    const { result } = scene;
    this.d.logger.warn({ monitorId: result.monitor.id, reactionId: from.id, decision: 'escalated' }, escalation.reason);
    await this.d.decisions.record(this.entry(scene, from.id, 'escalated', `escalated: ${escalation.reason}`));
    for (const reaction of scene.reactions) {
      if (reaction.id === from.id) continue;
      if (reaction.escalatesFrom === from.id) {
        const reached: Breaker = { notFixed: 0, ...scene.breakers.get(reaction.id), rungEpisode: result.episode };
        await this.d.redis.set(this.d.k.breaker(result.monitor.id, reaction.id), JSON.stringify(reached), 'EX', BREAKER_TTL_S);
        scene.breakers.set(reaction.id, reached);
        await this.react(scene, reaction, escalation);
      } else if (reaction.callOn === 'escalated' && !reaction.escalatesFrom) {
        await this.react(scene, reaction, escalation);
      }
    }
  }

  /** Decides one reaction for this result (or for an escalation) and runs it off the result chain when it goes ahead. */
  private async react(scene: Scene, reaction: Reaction, escalation?: Escalation): Promise<void> {
    const { redis, k, counters, decisions } = this.d;
    const { result } = scene;
    const monitorId = result.monitor.id;
    scene.decided.add(reaction.id);
    const log = this.d.logger.child({ monitorId, reactionId: reaction.id, rtype: reaction.rtype });
    const event: ReactionEvent = { ...scene.event, reaction: { id: reaction.id, name: reaction.name, rtype: reaction.rtype, data: reaction.data }, ...(escalation ? { escalation } : {}) };
    const entry = (decision: Decision, message: string, reason?: DecisionReason) => this.entry(scene, reaction.id, decision, message, reason);
    const refuse = async (reason: DecisionReason, where: 'zone' | 'store', target?: Budget) => {
      log.info({ decision: DecisionLog.decisionOf(reason), reason }, 'reaction not run');
      const first = await decisions.recordFirst(entry(DecisionLog.decisionOf(reason), refusalMessage(reason, reaction, where, target), reason), reason);
      // A spent budget is a fix that can do no more: a person (or the next rung) is told, once per episode.
      if (first && reason === 'budget' && reaction.kind === 'fix') {
        await this.escalate(scene, reaction, {
          reason: `${reaction.name} spent its budget of ${budgetText(reaction)} on ${result.monitor.name} (${monitorId}), which is still ${result.status}`,
          reaction: { id: reaction.id, name: reaction.name }, runs: reaction.maxRuns ?? 0,
        });
      }
    };
    let mod: ReactionModule;
    try {
      mod = await this.d.loader.load(reaction.rtype);
    } catch (err) {
      counters.inc('reactions.load_failed');
      log.error({ err: (err as Error).message }, 'reaction module cannot be loaded (recorded once for this episode)');
      await decisions.recordFirst(entry('failed', `not run: ${(err as Error).message}`), 'load-failed');
      return;
    }
    if (!escalation) {
      if (!shouldRun(mod, { reaction, status: result.status, failcount: result.failcount })) return;
      // A monitor whose first status is healthy has not recovered from anything: no once-per-episode "back up" run.
      if (reaction.once && result.status === 'healthy' && result.episode === 1) return;
    }
    if (scene.breakers.get(reaction.id)?.openedAt) return refuse('breaker-open', 'zone');
    if (scene.verification?.reactionId === reaction.id) return refuse('verifying', 'zone');
    // Claimed at Redis's time, so frequency and budgets hold whatever the clocks of the zone's sinks say.
    const claim = await claimInZone(redis, k, reaction, monitorId, result.episode);
    if (!claim.run) return refuse(claim.reason, 'zone', claim.target);
    // A fix is verified from the moment it is claimed, so no later result runs it again while it runs or is verified.
    const verified = verifies(reaction) ? await startVerification(redis, k, monitorId, reaction, claim.now, result.episode) : undefined;
    if (verified) scene.verification = verified;
    const unverify = async () => {
      if (verified) await endVerification(redis, k, monitorId, verified, result.monitor.interval);
    };
    const run = async () => {
      // The store's claim holds across zones and survives a Redis that lost its data; it runs off the
      // result loop, so a slow or dead store never holds up recording results.
      // Refused before the claim across zones, so that a sink of another zone allowed to run it still does.
      const refused = commandRefusal(mod.meta, this.d.commands);
      if (!refused && this.d.claims) {
        const verdict = await claimAcrossZones(this.d.claims, reaction, event, claim.now, result.episodeStart, claim.target, log);
        if (verdict !== 'run') {
          await unverify();
          return refuse(verdict === 'once' || verdict === 'frequency' ? 'other-zone' : verdict, 'store', claim.target);
        }
      }
      const dryRun = reaction.dryRun === true;
      const r = refused ? { outcome: 'failed' as const, message: refused.message, durationMs: 0 } : await runReaction(mod, event, this.d.timeoutMs, this.d.secretKey, log, dryRun);
      // A dry run that went through is recorded as what it is, with what the module says it would have done.
      const decision: Decision = dryRun && r.outcome === 'ran' ? 'dry-run' : r.outcome;
      let message = decision === 'dry-run' && !r.message ? `${reaction.rtype} acted on nothing and did not say what it would have done` : r.message;
      // Only a fix that went through (for real or dry) is verified; one that failed or skipped is not.
      if (decision !== 'ran' && decision !== 'dry-run') await unverify();
      else if (verifies(reaction) && !verified) message = `${message ? `${message}; ` : ''}not verified: another fix of this monitor is being verified`;
      log[r.outcome === 'failed' ? 'warn' : 'info']({ outcome: decision, durationMs: r.durationMs, reason: message || undefined }, 'reaction run');
      await decisions.record({ ...entry(decision, message), tookMs: r.durationMs });
    };
    const accepted = this.d.runner.submit(reaction.rtype, () => run().catch((err) => log.error({ err: (err as Error).message }, 'recording a reaction decision failed')));
    if (!accepted) {
      counters.inc('reactions.queue_full');
      await refuse('queue-full', 'zone');
    }
  }
}

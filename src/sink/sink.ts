/** The sink: records each result in Redis atomically, then runs the monitor's reactions whose rules hold. */
import { Pull } from 'zeromq';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { RedisKnownHosts, useKnownHosts } from '../core/ssh-known-hosts.js';
import type { Registry } from 'prom-client';
import { DEFAULT_BACKLOG_MAX } from '../core/config.js';
import { Counters } from '../core/counters.js';
import { reportRefusal } from '../core/curve-refusal.js';
import { keys } from '../core/keys.js';
import { sinkMetrics } from '../core/metrics-process.js';
import { decode, type ResultMessage } from '../core/messages.js';
import { Refusals } from '../core/refusals.js';
import { reactionLoader } from '../core/plugins.js';
import { commandPolicy, commandRefusal } from '../core/command-policy.js';
import type { Monitor, Reaction, ReactionEvent, Status } from '../core/types.js';
import { shouldRun } from './rules.js';
import { runReaction } from './run-reaction.js';
import { claimAcrossZones, type ReactionClaims } from './cross-zone.js';
import { settleWithin } from '../core/time.js';
import { failpoint } from '../core/failpoints.js';
import { supervise, type LoopEnded } from '../core/main-loop.js';
import { socketOptions, type CurveClient } from '../core/socket-options.js';

export interface SinkOptions {
  /** Broker endpoint for results (tcp://host:5558). */
  results: string;
  redis: Redis;
  zone: string;
  logger: Logger;
  secretKey?: Buffer;
  actionsPath?: string[];
  reactionTimeoutMs?: number;
  /** Reactions running at once before the sink stops reading results. */
  maxRunning?: number;
  /** Claims in the shared store, so a monitor checked from several zones runs a reaction once. */
  claims?: ReactionClaims;
  /** Registry of this process's /metrics (--metrics-port): latency per monitor, results, reactions, counters. */
  metrics?: Registry;
  /** Called when the receive loop ends while the sink runs (default: the process's handler, which exits). */
  onLoopEnded?: LoopEnded;
  /** CURVE: the broker's public key and this process's pair (plaintext when undefined). */
  curve?: CurveClient;
  /** Run reactions that run commands (--allow-commands); without it each such run is recorded failed, not run. */
  allowCommands?: boolean;
  /** Most history entries kept waiting for the store of record, the oldest trimmed past it (default 5,000,000; 0: no limit). */
  backlogMax?: number;
}

export interface Sink {
  counters: Counters;
  stop(): Promise<void>;
}

/** Reactions running at once by default before a sink stops reading results. */
export const SINK_MAX_RUNNING = 64;

/** Results whose recordResult scripts may be in flight at once (pipelined in one write by ioredis). */
const MAX_IN_FLIGHT = 128;

/** Connects to the broker and starts recording results. */
export async function startSink(opts: SinkOptions): Promise<Sink> {
  const { redis, logger, zone } = opts;
  const k = keys(zone);
  // ssh-command reactions without data.ssh.hostKey trust the key first met in the zone.
  useKnownHosts(new RedisKnownHosts(redis, zone));
  const counters = new Counters(redis, k.counters, 'sink');
  counters.start();
  const prom = opts.metrics && sinkMetrics(opts.metrics, counters);
  const loader = reactionLoader(opts.actionsPath);
  const commands = commandPolicy(opts.allowCommands, 'sink');
  const claims = opts.claims;
  const timeoutMs = opts.reactionTimeoutMs ?? 30_000;
  const maxRunning = opts.maxRunning ?? SINK_MAX_RUNNING;
  const backlogMax = opts.backlogMax ?? DEFAULT_BACKLOG_MAX;
  const running = new Set<Promise<void>>();
  const refusals = new Refusals(counters, logger);
  const pull = new Pull({ ...socketOptions(opts.curve), receiveHighWaterMark: 10_000 });
  reportRefusal(pull, opts.curve, logger);
  pull.connect(opts.results);
  let stopped = false;
  // What the bridge last said of the store of record; results recorded while it is down are marked cache-only.
  let storeDown = false;
  const readStoreHealth = async () => {
    const json = await redis.get(k.storeHealth).catch(() => null);
    storeDown = json ? (JSON.parse(json) as { up: boolean }).up === false : false;
  };
  const healthTimer = setInterval(() => void readStoreHealth(), 1000);
  void readStoreHealth();

  const recordRun = async (event: ReactionEvent, reaction: Reaction, outcome: string, message: string) => {
    await redis.xadd(k.events, '*', 'kind', 'reaction', 'monitorId', event.monitor.id, 'zone', zone, 'at', String(Date.now()),
      'status', event.status, 'previousStatus', event.previousStatus ?? '', 'failcount', String(event.failcount),
      'reactionId', reaction.id, 'outcome', outcome, 'message', message);
  };

  const react = async (reaction: Reaction, event: ReactionEvent, episode: number, episodeStart: number) => {
    const log = logger.child({ monitorId: event.monitor.id, reactionId: reaction.id, rtype: reaction.rtype });
    let mod;
    try {
      mod = await loader.load(reaction.rtype);
    } catch (err) {
      counters.inc('reactions.failed');
      log.error({ err: (err as Error).message }, 'reaction module cannot be loaded');
      return recordRun(event, reaction, 'failed', (err as Error).message);
    }
    if (!shouldRun(mod, { reaction, status: event.status, failcount: event.failcount })) return;
    // A monitor whose first status is healthy has not recovered from anything: no once-per-episode "back up" run.
    if (reaction.once && event.status === 'healthy' && episode === 1) return;
    const now = Date.now();
    const claimed = await redis.claimReaction(k.reactionState(event.monitor.id, reaction.id), now, reaction.frequency * 1000, reaction.once ? '1' : '0', episode);
    if (!claimed) return;
    const run = (async () => {
      // The store's claim holds across zones and survives a Redis that lost its data; it runs off the
      // result loop, so a slow or dead store never holds up recording results.
      // Refused before the claim across zones, so that a sink of another zone allowed to run it still does.
      const refused = commandRefusal(mod.meta, commands);
      if (!refused && claims && !(await claimAcrossZones(claims, reaction, event, now, episodeStart, log))) return;
      const r = refused ? { outcome: 'failed' as const, message: refused.message, durationMs: 0 } : await runReaction(mod, event, timeoutMs, opts.secretKey, log);
      counters.inc(`reactions.${r.outcome}`);
      log[r.outcome === 'failed' ? 'warn' : 'info']({ outcome: r.outcome, durationMs: r.durationMs, reason: r.message || undefined }, 'reaction run');
      await recordRun(event, reaction, r.outcome, r.message);
    })().catch((err) => log.error({ err: (err as Error).message }, 'recording a reaction run failed'));
    running.add(run);
    void run.finally(() => running.delete(run));
    if (running.size >= maxRunning) await Promise.race(running);
  };

  /** Runs the recordResult script for one result; called as results arrive, so the scripts in flight go out pipelined. */
  const record = (res: ResultMessage) =>
    redis.recordResult(
      k.state(res.monitorId), k.history, k.events, k.monitor(res.monitorId), k.views(res.monitorId), k.counters,
      res.monitorId, res.zone, res.status, res.message, res.latencyMs === null ? '' : String(res.latencyMs), res.checkedAt, res.due,
      storeDown ? '1' : '', backlogMax,
    );

  const handle = async (res: ResultMessage, recording: ReturnType<typeof record>) => {
    const recorded = await recording;
    counters.inc('results_recorded');
    if (!recorded) return counters.inc('results_for_removed_monitors');
    if (res.latencyMs !== null) prom?.latency(res.monitorId, res.latencyMs);
    const [monitorJson, prev, failcount, episode, , stale, status, episodeStart] = recorded;
    if (stale || status === 'unknown') return;
    const monitor = JSON.parse(monitorJson) as Monitor;
    if (!monitor.reactions?.length) return;
    const configs = await redis.mget(monitor.reactions.map((id) => k.reaction(id)));
    const event: Omit<ReactionEvent, 'reaction'> = {
      monitor: { id: monitor.id, name: monitor.name, ctype: monitor.ctype },
      status: status as Status, previousStatus: (prev || null) as Status | null, failcount: Number(failcount),
      zone: res.zone, checkedAt: res.checkedAt, message: res.message,
    };
    for (const [i, json] of configs.entries()) {
      if (!json) {
        counters.inc('missing_reactions');
        logger.warn({ monitorId: monitor.id, reactionId: monitor.reactions[i] }, 'monitor names a reaction that does not exist; remove it from the monitor or add the reaction');
        continue;
      }
      const reaction = JSON.parse(json) as Reaction;
      const r = { id: reaction.id, name: reaction.name, rtype: reaction.rtype, data: reaction.data };
      await react(reaction, { ...event, reaction: r }, Number(episode), Number(episodeStart));
    }
  };

  // Each result's script is sent as soon as it arrives, but results are handled (reactions decided)
  // one at a time in arrival order, as before. At most MAX_IN_FLIGHT wait; then reading pauses.
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let slotFree: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    const wake = slotFree;
    slotFree = undefined;
    wake?.();
  };
  const loop = supervise('sink', 'receive', (async () => {
    for await (const [msg] of pull) {
      failpoint('sink.receive');
      let res: ResultMessage;
      try {
        res = decode(msg!, ['result']);
      } catch (err) {
        refusals.refuse('results', err);
        continue;
      }
      const recording = record(res);
      recording.catch(() => undefined); // its error is handled in turn, below
      inFlight++;
      chain = chain
        .then(() => handle(res, recording))
        .catch((err) => {
          counters.inc('results_failed');
          logger.error({ monitorId: res.monitorId, err: (err as Error).message }, 'recording a result failed');
        })
        .finally(settled);
      if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (slotFree = r));
    }
  })(), () => !stopped, logger, opts.onLoopEnded);
  logger.info({ results: opts.results, zone, allowCommands: commands.allowed }, 'sink started');

  return {
    counters,
    async stop() {
      stopped = true;
      clearInterval(healthTimer);
      pull.close();
      await loop;
      await chain;
      await settleWithin(Promise.allSettled([...running]), timeoutMs);
      await counters.stop();
    },
  };
}

/**
 * The sink: takes results from the zone's results stream (one consumer of the sinks' group), records each in Redis
 * atomically with its acknowledgement, then runs the monitor's reactions whose rules hold, off the result chain.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { RedisKnownHosts, useKnownHosts } from '../core/ssh-known-hosts.js';
import type { Registry } from 'prom-client';
import { DEFAULT_BACKLOG_MAX } from '../core/config.js';
import { Counters } from '../core/counters.js';
import { keys, RESULTS_GROUP } from '../core/keys.js';
import { sinkMetrics } from '../core/metrics-process.js';
import { decode, type ResultMessage } from '../core/messages.js';
import { recordResults, type Recorded } from '../core/record-results.js';
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
import { RedisClock } from '../core/redis-clock.js';
import { ReactionRunner } from './reaction-runner.js';
import { ResultReader, type StreamEntry } from './result-reader.js';
import { ResultsInFlight } from './results-in-flight.js';
import { RESULTS_PER_ENTRY } from '../core/result-outbox.js';
import { everySecond } from '../core/ticker.js';

export interface SinkOptions {
  redis: Redis;
  zone: string;
  logger: Logger;
  secretKey?: Buffer;
  actionsPath?: string[];
  reactionTimeoutMs?: number;
  /** Reactions of one type running at once (default 16); more wait, up to `maxQueuedPerType` (default 1,000). */
  maxRunningPerType?: number;
  maxQueuedPerType?: number;
  /** Results another sink has held this long (ms) are taken over, default 15,000. */
  claimIdleMs?: number;
  /** Consumer name in the results group, default hostname:pid. */
  consumer?: string;
  /** Claims in the shared store, so a monitor checked from several zones runs a reaction once. */
  claims?: ReactionClaims;
  /** Registry of this process's /metrics (--metrics-port): latency per monitor, results, reactions, counters. */
  metrics?: Registry;
  /** Called when the receive loop ends while the sink runs (default: the process's handler, which exits). */
  onLoopEnded?: LoopEnded;
  /** Run reactions that run commands (--allow-commands); without it each such run is recorded failed, not run. */
  allowCommands?: boolean;
  /** Most history entries kept waiting for the store of record, the oldest trimmed past it (default 5,000,000; 0: no limit). */
  backlogMax?: number;
}

export interface Sink {
  counters: Counters;
  stop(): Promise<void>;
}

/** Reactions of one type running at once by default (more wait for a slot). */
export const SINK_MAX_RUNNING_PER_TYPE = 16;

/**
 * After a read that found fewer than this many results, the next waits READ_LINGER_MS for more to gather: Redis
 * spends most of its time per call, so at low load a sink would otherwise pay a read and a script call per result.
 */
const READ_LINGER_BELOW = 64;
const READ_LINGER_MS = 50;

/** Results read and not yet handled (each batch read is recorded by one script call). */
const MAX_IN_FLIGHT = 256;

/** Joins the results group and starts recording results. */
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
  const runner = new ReactionRunner({ perType: opts.maxRunningPerType ?? SINK_MAX_RUNNING_PER_TYPE, queuedPerType: opts.maxQueuedPerType ?? 1000 });
  const backlogMax = opts.backlogMax ?? DEFAULT_BACKLOG_MAX;
  const refusals = new Refusals(counters, logger);
  const consumer = opts.consumer ?? `${hostname()}:${process.pid}`;
  const reader = new ResultReader(redis, { stream: k.results, group: RESULTS_GROUP, consumer, logger, claimIdleMs: opts.claimIdleMs });
  let stopped = false;
  // What the bridge last said of the store of record; results recorded while it is down are marked cache-only.
  let storeDown = false;
  const readStoreHealth = async () => {
    const json = await redis.get(k.storeHealth).catch(() => null);
    storeDown = json ? (JSON.parse(json) as { up: boolean }).up === false : false;
  };
  const stopHealthReads = everySecond(() => void readStoreHealth());
  void readStoreHealth();

  // Reaction runs are stamped on Redis's clock, the zone's one clock.
  const clock = new RedisClock(redis);
  const recordRun = async (event: ReactionEvent, reaction: Reaction, outcome: string, message: string) => {
    await redis.xadd(k.events, '*', 'kind', 'reaction', 'monitorId', event.monitor.id, 'zone', zone, 'at', String(clock.now()),
      'status', event.status, 'previousStatus', event.previousStatus ?? '', 'failcount', String(event.failcount),
      'reactionId', reaction.id, 'outcome', outcome, 'message', message);
  };

  /** A module that cannot be loaded is recorded once per monitor, reaction and episode (counted every time). */
  const loadFailed = async (event: ReactionEvent, reaction: Reaction, episode: number, err: Error, log: Logger) => {
    counters.inc('reactions.load_failed');
    const before = await redis.set(k.reactionLoadFailed(event.monitor.id, reaction.id), String(episode), 'EX', 7 * 86_400, 'GET');
    if (before === String(episode)) return;
    counters.inc('reactions.failed');
    log.error({ err: err.message }, 'reaction module cannot be loaded (recorded once for this episode)');
    await recordRun(event, reaction, 'failed', err.message);
  };

  const react = async (reaction: Reaction, event: ReactionEvent, episode: number, episodeStart: number) => {
    const log = logger.child({ monitorId: event.monitor.id, reactionId: reaction.id, rtype: reaction.rtype });
    let mod;
    try {
      mod = await loader.load(reaction.rtype);
    } catch (err) {
      return loadFailed(event, reaction, episode, err as Error, log);
    }
    if (!shouldRun(mod, { reaction, status: event.status, failcount: event.failcount })) return;
    // A monitor whose first status is healthy has not recovered from anything: no once-per-episode "back up" run.
    if (reaction.once && event.status === 'healthy' && episode === 1) return;
    // Claimed at Redis's time, so frequency holds whatever the clocks of the zone's sinks say.
    const now = await redis.claimReaction(k.reactionState(event.monitor.id, reaction.id), '', reaction.frequency * 1000, reaction.once ? '1' : '0', episode);
    if (!now) return;
    const run = async () => {
      // The store's claim holds across zones and survives a Redis that lost its data; it runs off the
      // result loop, so a slow or dead store never holds up recording results.
      // Refused before the claim across zones, so that a sink of another zone allowed to run it still does.
      const refused = commandRefusal(mod.meta, commands);
      if (!refused && claims && !(await claimAcrossZones(claims, reaction, event, now, episodeStart, log))) return;
      const r = refused ? { outcome: 'failed' as const, message: refused.message, durationMs: 0 } : await runReaction(mod, event, timeoutMs, opts.secretKey, log);
      counters.inc(`reactions.${r.outcome}`);
      log[r.outcome === 'failed' ? 'warn' : 'info']({ outcome: r.outcome, durationMs: r.durationMs, reason: r.message || undefined }, 'reaction run');
      await recordRun(event, reaction, r.outcome, r.message);
    };
    const accepted = runner.submit(reaction.rtype, () => run().catch((err) => log.error({ err: (err as Error).message }, 'recording a reaction run failed')));
    if (!accepted) {
      counters.inc('reactions.failed');
      counters.inc('reactions.queue_full');
      const message = `not run: ${opts.maxQueuedPerType ?? 1000} ${reaction.rtype} reactions already wait for a slot (the ${reaction.rtype} target is slow or down)`;
      log.error({ reason: message }, 'reaction not run');
      await recordRun(event, reaction, 'failed', message);
    }
  };

  const handle = async (res: ResultMessage, recording: Promise<Recorded>) => {
    const recorded = await recording;
    counters.inc(recorded.outcome === 'duplicate' ? 'results_duplicate' : 'results_recorded');
    if (recorded.outcome === 'monitor-gone') return counters.inc('results_for_removed_monitors');
    if (recorded.outcome === 'duplicate') return;
    if (res.latencyMs !== null) prom?.latency(res.monitorId, res.latencyMs);
    if (recorded.stale) return counters.inc('results_stale');
    if (recorded.status === 'unknown' || !recorded.reactionsJson) return;
    const monitor = JSON.parse(recorded.reactionsJson) as Monitor;
    if (!monitor.reactions?.length) return;
    const configs = await redis.mget(monitor.reactions.map((id) => k.reaction(id)));
    const event: Omit<ReactionEvent, 'reaction'> = {
      monitor: { id: monitor.id, name: monitor.name, ctype: monitor.ctype },
      status: recorded.status as Status, previousStatus: (recorded.previousStatus || null) as Status | null, failcount: recorded.failcount,
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
      await react(reaction, { ...event, reaction: r }, recorded.episode, recorded.episodeStart);
    }
  };

  const inFlight = new ResultsInFlight(MAX_IN_FLIGHT);
  /**
   * Records a batch read from the stream with one script call, then handles each result in turn. An entry carries one
   * result per line; it is acknowledged with the last of its results that decodes, or on its own when none does.
   */
  const take = (batch: StreamEntry[]): number => {
    const accepted: { res: ResultMessage; entryId: string }[] = [];
    for (const entry of batch) {
      failpoint('sink.receive');
      const first = accepted.length;
      for (const line of entry.raw.split('\n')) {
        try {
          accepted.push({ res: decode(line, ['result']), entryId: '' });
        } catch (err) {
          refusals.refuse('results', err);
        }
      }
      const acked = accepted.length > first;
      if (acked) accepted[accepted.length - 1]!.entryId = entry.id;
      // A refused entry is acknowledged, so it is not read again (if that fails it is claimed and refused again later).
      if (!acked) {
        redis.ackAndTrim(k.results, RESULTS_GROUP, entry.id).catch((err: Error) =>
          logger.warn({ entryId: entry.id, err: err.message }, 'acknowledging a refused results entry failed; it will be read and refused again'));
      }
    }
    if (accepted.length === 0) return 0;
    const rows = recordResults(redis, zone, accepted.map(({ res, entryId }) => ({ ...res, entryId })), { cacheOnly: storeDown, backlogMax });
    let recorded = false;
    rows.then(() => (recorded = true), () => undefined);
    for (const [i, { res }] of accepted.entries()) {
      inFlight.add(rows.then((r) => r[i]!), (r) => handle(res, r), (thrown) => {
        const err = { message: thrown instanceof Error ? thrown.message : String(thrown) };
        counters.inc('results_failed');
        // Not recorded means not acknowledged either: the entry stays pending and is taken over again after claimIdleMs.
        if (recorded) logger.error({ monitorId: res.monitorId, err: err.message }, "deciding a recorded result's reactions failed");
        else logger.error({ monitorId: res.monitorId, err: err.message }, 'recording a result failed; it stays in the results stream and is tried again');
      });
    }
    return accepted.length;
  };

  const loop = supervise('sink', 'receive', (async () => {
    await reader.ensureGroup();
    let failing = false;
    while (!stopped) {
      await inFlight.room(RESULTS_PER_ENTRY);
      let batch: StreamEntry[];
      try {
        batch = await reader.read(Math.max(1, Math.floor(inFlight.free() / RESULTS_PER_ENTRY)));
      } catch (err) {
        if (stopped) break;
        if (!failing) logger.error({ err: (err as Error).message }, 'cannot read the results stream; retrying');
        failing = true;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      failing = false;
      const results = take(batch);
      if (results > 0 && results < READ_LINGER_BELOW) await new Promise((r) => setTimeout(r, READ_LINGER_MS));
    }
  })(), () => !stopped, logger, opts.onLoopEnded);
  logger.info({ results: k.results, consumer, zone, allowCommands: commands.allowed }, 'sink started');

  return {
    counters,
    async stop() {
      stopped = true;
      stopHealthReads();
      clock.stop();
      reader.close();
      await loop;
      await inFlight.settled();
      await settleWithin(runner.settled(), timeoutMs);
      await counters.stop();
    },
  };
}

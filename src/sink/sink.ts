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
import { commandPolicy } from '../core/command-policy.js';
import type { Monitor, Status } from '../core/types.js';
import { DecisionLog } from './decisions.js';
import { Reactor } from './reactor.js';
import { startReactionTests } from './reaction-tests.js';
import type { ReactionClaims } from './cross-zone.js';
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
  /** Most results kept waiting for the store of record in the history stream, the oldest trimmed past it (default 5,000,000; 0: no limit). */
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

  // Decisions are stamped on Redis's clock, the zone's one clock.
  const clock = new RedisClock(redis);
  const decisions = new DecisionLog(redis, k, zone, clock, counters);

  const reactor = new Reactor({
    redis, k, logger, counters, clock, decisions, loader, runner, commands, claims, timeoutMs, secretKey: opts.secretKey,
    ...(prom ? { onFixed: prom.fixed } : {}),
  });

  const stopTests = startReactionTests({
    redis, zone, logger, counters, clock, decisions, loader, runner, commands, refusals, timeoutMs, secretKey: opts.secretKey, consumer, onLoopEnded: opts.onLoopEnded,
  });

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
    await reactor.onResult({
      monitor, status: recorded.status as Status, previousStatus: (recorded.previousStatus || null) as Status | null, failcount: recorded.failcount,
      episode: recorded.episode, episodeStart: recorded.episodeStart, zone: res.zone, checkedAt: res.checkedAt, due: res.due, latencyMs: res.latencyMs, message: res.message,
    });
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
      inFlight.add(res.monitorId, rows.then((r) => r[i]!), (r) => handle(res, r), (thrown) => {
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
      await stopTests();
      await inFlight.settled();
      await settleWithin(runner.settled(), timeoutMs);
      await counters.stop();
    },
  };
}

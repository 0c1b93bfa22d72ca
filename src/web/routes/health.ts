/**
 * GET /health: 200 when the zone's Redis and the store of record answer, the bridge can write to the store,
 * results are being recorded and, in a zone with monitors whose processes send heartbeats, a control, broker, worker
 * and sink are live; 503 with `down` naming what is not (load balancers and uptime checks read the status).
 * `warnings` says when a backlog waiting for the store fills past 50% or 90% of CLOUDROUTES_BACKLOG_MAX.
 */
import type { FastifyInstance } from 'fastify';
import { backlogWarnings, readBacklog, storeDownMessage, type Backlog, type StoreHealthState } from '../../core/backlog.js';
import { parseDuration } from '../../core/duration.js';
import { errors } from '../../core/errors.js';
import { keys } from '../../core/keys.js';
import { within } from '../../core/metrics.js';
import { readProcesses, type ProcessKind } from '../../core/processes.js';
import type { WebDeps } from '../deps.js';

const REDIS_TIMEOUT_MS = 1000;
const STORE_TIMEOUT_MS = 2000;
const INTERVALS_TTL_MS = 30_000;

export interface HealthReport {
  status: 'ok' | 'down';
  /** What is down: "redis", "store", "results", "processes". */
  down: string[];
  /** The backlog filling (50% and 90% of CLOUDROUTES_BACKLOG_MAX), whatever the status. */
  warnings: string[];
  zone: string;
  redis: { up: boolean; latencyMs?: number; error?: string };
  /** `up`: this web process reaches the store; `bridge`: what the bridge says of its writes ("store" is down when either is not). */
  store: { up: boolean; latencyMs?: number; error?: string; bridge?: StoreHealthState; waiting?: number; backlog?: Backlog };
  lastResult: { at: number | null; ageMs: number | null; monitors: number | null; staleAfterMs?: number; note?: string; error?: string };
  /** The zone's processes from their heartbeats: how many of each kind are live, how many gone, the required kinds missing. */
  processes: { live: Partial<Record<ProcessKind, number>>; gone: number; missing: ProcessKind[]; note?: string; error?: string };
}

/** Credentials in URLs (rethinkdb://admin:secret@host) never reach a public answer. */
const redact = (message: string) => message.replace(/:\/\/[^/@\s]*@/g, '://***@');

/** The newest history entry's time (its stream id), from XINFO STREAM's flat reply; null when none was ever added. */
function lastGeneratedMs(info: unknown): number | null {
  if (!Array.isArray(info)) return null;
  const i = info.indexOf('last-generated-id');
  const ms = i >= 0 ? Number(String(info[i + 1]).split('-')[0]) : 0;
  return ms > 0 ? ms : null;
}

/** Runs the probes; concurrent requests share one run. */
export class HealthProbe {
  private running: Promise<HealthReport> | undefined;
  private lastRedisError: string | undefined;
  /** The shortest interval of the zone's monitors, read again every 30 s or when their number changed. */
  private minInterval: { ms: number; at: number; monitors: number } | undefined;
  /** Redis time of the first look and of the last look that found no monitors: a window of grace starts there. */
  private graceFrom: number | undefined;

  /** `resultAgeMs` overrides how old the newest result may be (default: two intervals of the most frequent monitor plus 30 s). */
  constructor(private readonly deps: Pick<WebDeps, 'redis' | 'store' | 'settings'>, private readonly resultAgeMs?: number) {
    deps.redis.on('error', (err: Error) => (this.lastRedisError = err.message));
    deps.redis.on('ready', () => (this.lastRedisError = undefined));
  }

  check(): Promise<HealthReport> {
    this.running ??= this.probe().finally(() => (this.running = undefined));
    return this.running;
  }

  private async probe(): Promise<HealthReport> {
    const [redisPart, store] = await Promise.all([this.probeRedis(), this.probeStore()]);
    const processes = redisPart.redis.up ? await this.probeProcesses(redisPart.lastResult.monitors ?? 0) : { live: {}, gone: 0, missing: [], note: 'not known while Redis is down' };
    const down: string[] = [];
    if (!redisPart.redis.up) down.push('redis');
    const backlog = redisPart.store.backlog;
    const bridgeDown = backlog && storeDownMessage(backlog);
    if (!store.up || bridgeDown) down.push('store');
    if (redisPart.lastResult.error) down.push('results');
    if (processes.error) down.push('processes');
    return {
      status: down.length ? 'down' : 'ok', down, warnings: backlog ? backlogWarnings(backlog) : [], zone: this.deps.settings.zone,
      redis: redisPart.redis, store: { ...store, ...redisPart.store, ...(bridgeDown && store.up ? { error: bridgeDown } : {}) },
      lastResult: redisPart.lastResult, processes,
    };
  }

  /** Whether the zone's monitors have a live control, broker, worker and sink; an empty zone, or one without heartbeats, is not judged. */
  private async probeProcesses(monitors: number): Promise<HealthReport['processes']> {
    const { zone } = this.deps.settings;
    try {
      const seen = await within(readProcesses(this.deps.redis, zone), REDIS_TIMEOUT_MS, 'Redis');
      const live: HealthReport['processes']['live'] = {};
      for (const p of seen.processes) if (p.state === 'live') live[p.kind] = (live[p.kind] ?? 0) + 1;
      const report = { live, gone: seen.processes.length - Object.values(live).reduce((a, b) => a + b, 0), missing: seen.missing };
      if (!seen.missing.length) return report;
      if (monitors === 0) return { ...report, note: 'no monitors are checked from this zone' };
      // Processes of a version before heartbeats, or a zone stopped cleanly: the results check speaks for them.
      if (!seen.processes.length) return { ...report, note: 'no process of this zone sends heartbeats (all stopped cleanly, or of a version without them)' };
      return { ...report, error: errors.processesMissing(zone, monitors, seen.missing).message };
    } catch (err) {
      return { live: {}, gone: 0, missing: [], note: `not known: ${redact((err as Error).message)}` };
    }
  }

  private async probeStore(): Promise<HealthReport['store']> {
    const started = performance.now();
    try {
      // A primary-key read of a monitor that does not exist: the cheapest call every store answers.
      await within(this.deps.store().then((s) => s.getMonitor('m-health-probe')), STORE_TIMEOUT_MS, 'the store of record');
      return { up: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { up: false, error: redact((err as Error).message) };
    }
  }

  private async probeRedis(): Promise<Pick<HealthReport, 'redis' | 'lastResult'> & { store: Partial<HealthReport['store']> }> {
    const { redis } = this.deps;
    const unknown = { at: null, ageMs: null, monitors: null, note: 'not known while Redis is down' };
    // Commands sent while disconnected would wait in ioredis's queue until Redis is back: only a
    // connection being made (a web process just started) is waited for, briefly.
    if (redis.status === 'wait' || redis.status === 'connecting' || redis.status === 'connect') {
      let onReady: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => redis.once('ready', (onReady = resolve)));
      await within(ready, REDIS_TIMEOUT_MS, 'Redis').catch(() => redis.off('ready', onReady));
    }
    if (redis.status !== 'ready') {
      const error = `Redis is not connected (${redis.status}${this.lastRedisError ? `: ${redact(this.lastRedisError)}` : ''})`;
      return { redis: { up: false, error }, lastResult: unknown, store: {} };
    }
    const k = keys(this.deps.settings.zone);
    const started = performance.now();
    const wantIntervals = !this.minInterval || Date.now() - this.minInterval.at > INTERVALS_TTL_MS;
    let replies: [Error | null, unknown][];
    let backlog: Backlog;
    try {
      const p = redis.pipeline().time().scard(k.monitors).xinfo('STREAM', k.history);
      if (wantIntervals) p.hvals(k.intervals);
      [replies, backlog] = await within(Promise.all([
        p.exec().then((r) => (r ?? []) as [Error | null, unknown][]), readBacklog(redis, this.deps.settings.zone, this.deps.settings.backlogMax),
      ]), REDIS_TIMEOUT_MS, 'Redis');
    } catch (err) {
      return { redis: { up: false, error: redact((err as Error).message) }, lastResult: unknown, store: {} };
    }
    const latencyMs = Math.round(performance.now() - started);
    const failed = replies.find(([err], i) => err && i !== 2); // XINFO fails when no result was ever recorded
    if (failed) return { redis: { up: false, error: redact(failed[0]!.message) }, lastResult: unknown, store: {} };
    const value = (i: number) => replies[i]![1];
    const [secs, micros] = value(0) as [string, string];
    const now = Number(secs) * 1000 + Math.floor(Number(micros) / 1000);
    if (wantIntervals) {
      const ms = (value(3) as string[]).map(Number).filter((n) => n > 0);
      this.minInterval = { ms: ms.reduce((a, b) => Math.min(a, b), Infinity), at: Date.now(), monitors: ms.length };
    }
    if (this.minInterval && this.minInterval.monitors !== Number(value(1))) this.minInterval.at = 0;
    const store = {
      ...(backlog.store ? { bridge: backlog.store } : {}),
      waiting: backlog.history.waiting + backlog.events.waiting, backlog,
    };
    return { redis: { up: true, latencyMs }, store, lastResult: this.judgeResults(now, Number(value(1)), lastGeneratedMs(value(2))) };
  }

  /** Whether results still arrive; an empty zone has nothing to record and is healthy. */
  private judgeResults(now: number, monitors: number, at: number | null): HealthReport['lastResult'] {
    const ageMs = at === null ? null : Math.max(0, now - at);
    if (monitors === 0) {
      this.graceFrom = now;
      return { at, ageMs, monitors, note: 'no monitors are checked from this zone' };
    }
    this.graceFrom ??= now;
    const shortest = this.minInterval && Number.isFinite(this.minInterval.ms) ? this.minInterval.ms : 0;
    const staleAfterMs = this.resultAgeMs ?? 2 * shortest + 30_000;
    // A web process that just started, or monitors just added to an empty zone, get one window before results are expected.
    const since = Math.max(at ?? 0, this.graceFrom);
    if (now - since <= staleAfterMs) return { at, ageMs, monitors, staleAfterMs };
    const what = at === null ? 'no result has been recorded yet' : `the newest result was recorded ${Math.round(ageMs! / 1000)} s ago`;
    const error = `${what}, and one was expected within ${Math.round(staleAfterMs / 1000)} s; check that the control, broker, worker and sink of zone ` +
      `"${this.deps.settings.zone}" run ("cloudroutes stats" shows their counters)`;
    return { at, ageMs, monitors, staleAfterMs, error };
  }
}

/** How old the newest result may be before /health says "results" are down (env CLOUDROUTES_HEALTH_RESULT_AGE, e.g. 90s). */
function resultAgeSetting(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.CLOUDROUTES_HEALTH_RESULT_AGE;
  if (!v) return undefined;
  try {
    return parseDuration(v) * 1000;
  } catch (err) {
    throw errors.badSetting('CLOUDROUTES_HEALTH_RESULT_AGE', v, (err as Error).message);
  }
}

export async function healthRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const probe = new HealthProbe(deps, resultAgeSetting());
  app.get('/health', { config: { access: 'public' } }, async (_request, reply) => {
    const report = await probe.check();
    return reply.code(report.status === 'ok' ? 200 : 503).header('cache-control', 'no-store').send(report);
  });
}

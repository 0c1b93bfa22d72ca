/** The zone's metrics as the web process's /metrics shows them, read from the zone's Redis at scrape time. */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { readBacklog, type Backlog } from './backlog.js';
import { errors } from './errors.js';
import { Histogram } from './histogram.js';
import { keys, lagKey, startLagKey } from './keys.js';
import { monitorSeriesCap } from './metrics-process.js';
import { GONE_AFTER_BEATS, PROCESS_KINDS, readProcesses, type ProcessRow } from './processes.js';
import { counterEntries, histogramSamples, registerCounterFamilies, scrapeMetric, within, type Sample } from './metrics.js';

export interface MonitorRow {
  id: string;
  name: string;
  status: string;
  failcount: number;
  lastCheck: number | null;
  latencyMs: number | null;
}

export interface ZoneSnapshot {
  monitors: MonitorRow[];
  /** `<process>.<name>` -> total, summed over the zone's processes. */
  counters: Record<string, string>;
  lag: Histogram;
  startLag: Histogram;
  /** The zone's processes from their heartbeats. */
  processes: ProcessRow[];
  backlog: Backlog;
}

const STATE_FIELDS = ['status', 'failcount', 'lastCheck', 'latencyMs'] as const;
const num = (v: string | null) => (v === null || v === '' ? null : Number(v));

/** Reads the zone's monitors, their states, counters and lag in one pipeline, at most once per `ttlMs`. */
export class ZoneReader {
  private cached: { at: number; snap: Promise<ZoneSnapshot> } | undefined;

  /** `backlogMax`: CLOUDROUTES_BACKLOG_MAX, which the backlog's fill is measured against. */
  constructor(private readonly redis: Redis, readonly zone: string, private readonly backlogMax: number, private readonly ttlMs = 1000, private readonly timeoutMs = 2000) {}

  /** The snapshot, shared by every scrape within `ttlMs`; rejects when Redis is not connected or too slow. */
  read(): Promise<ZoneSnapshot> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.snap;
    const snap = this.fetch();
    this.cached = { at: now, snap };
    // A failed read is not kept: the next scrape asks again.
    snap.catch(() => {
      if (this.cached?.snap === snap) this.cached = undefined;
    });
    return snap;
  }

  private async fetch(): Promise<ZoneSnapshot> {
    // Commands sent while disconnected would wait in ioredis's queue until Redis is back.
    if (this.redis.status !== 'ready') throw errors.redisNotConnected(this.redis.status);
    const k = keys(this.zone);
    const p = `cr:${this.zone}:`;
    // SORT ... GET reads every monitor's config and state fields in one command.
    const gets = ['#', `${p}monitor:*`, ...STATE_FIELDS.map((f) => `${p}state:*->${f}`)].flatMap((g) => ['GET', g]);
    const [replies, seen, backlog] = await within(Promise.all([
      this.redis.pipeline().sort(k.monitors, 'BY', 'nosort', ...gets).hgetall(k.counters).hgetall(lagKey(this.zone)).hgetall(startLagKey(this.zone)).exec(),
      readProcesses(this.redis, this.zone),
      readBacklog(this.redis, this.zone, this.backlogMax),
    ]), this.timeoutMs, 'Redis');
    for (const [err] of replies ?? []) if (err) throw err;
    const [[, rows], [, counters], [, lagHash], [, startLagHash]] = replies as [
      [null, (string | null)[]], [null, Record<string, string>], [null, Record<string, string>], [null, Record<string, string>],
    ];
    const width = 2 + STATE_FIELDS.length;
    const monitors: MonitorRow[] = [];
    for (let i = 0; i + width <= rows.length; i += width) {
      const [id, config, status, failcount, lastCheck, latencyMs] = rows.slice(i, i + width);
      if (!id || !config) continue;
      let name = id;
      try {
        name = (JSON.parse(config) as { name?: string }).name ?? id;
      } catch {
        // a broken config still has a state worth showing; the control reports the config
      }
      monitors.push({ id, name, status: status || 'unknown', failcount: Number(failcount ?? 0), lastCheck: num(lastCheck ?? null), latencyMs: num(latencyMs ?? null) });
    }
    const lag = new Histogram();
    lag.merge(lagHash);
    const startLag = new Histogram();
    startLag.merge(startLagHash);
    return { monitors, counters, lag, startLag, processes: seen.processes, backlog };
  }
}

const STATUS_VALUE: Record<string, number> = { failed: 1, healthy: 0, unknown: -1 };

/** What the per-monitor series show: their names too (an open /metrics then tells anyone what is monitored), and for how many monitors at most. */
export interface ZoneMetricsOptions {
  names: boolean;
  maxMonitors: number;
}

/** The options from CLOUDROUTES_METRICS_LABELS (`id`, the default, or `name`) and CLOUDROUTES_METRICS_MAX_MONITORS (default 10,000). */
export function zoneMetricsOptions(env: NodeJS.ProcessEnv = process.env): ZoneMetricsOptions {
  const labels = env.CLOUDROUTES_METRICS_LABELS || 'id';
  if (labels !== 'id' && labels !== 'name') throw errors.badSetting('CLOUDROUTES_METRICS_LABELS', labels, 'expected id (monitors by id only) or name (their names too)');
  return { names: labels === 'name', maxMonitors: monitorSeriesCap(env, 10_000) };
}

/** Registers the zone's metrics (cloudroutes_monitor_*, cloudroutes_zone_*, cloudroutes_process*, cloudroutes_redis_up) on `registry`. */
export function registerZoneMetrics(registry: Registry, reader: ZoneReader, opts: ZoneMetricsOptions = zoneMetricsOptions()): void {
  // A scrape while Redis is down still answers: the zone's metrics are left out and cloudroutes_redis_up says 0.
  const snap = () => reader.read().catch(() => undefined);
  // The monitors with their own series: the first maxMonitors by id, so the same ones from one scrape to the next.
  const shownOf = new WeakMap<ZoneSnapshot, MonitorRow[]>();
  const shown = (s: ZoneSnapshot) => {
    let rows = shownOf.get(s);
    if (!rows) {
      rows = s.monitors.length <= opts.maxMonitors ? s.monitors : [...s.monitors].sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, opts.maxMonitors);
      shownOf.set(s, rows);
    }
    return rows;
  };
  const labels = (m: MonitorRow): Record<string, string> => (opts.names ? { monitor_id: m.id, monitor_name: m.name } : { monitor_id: m.id });
  const perMonitor = (value: (m: MonitorRow) => number | null) => async (): Promise<Sample[]> => {
    const s = await snap();
    return (s ? shown(s) : []).flatMap((m) => {
      const v = value(m);
      return v === null ? [] : [{ labels: labels(m), value: v }];
    });
  };

  scrapeMetric(registry, 'cloudroutes_redis_up', "1 when the zone's Redis answered this scrape, else 0 (and the zone's metrics are left out)", 'gauge',
    async () => [{ value: (await snap()) ? 1 : 0 }]);
  scrapeMetric(registry, 'cloudroutes_monitors', 'Monitors checked from this zone, by status', 'gauge', async () => {
    const s = await snap();
    if (!s) return [];
    const by: Record<string, number> = { healthy: 0, failed: 0, unknown: 0 };
    for (const m of s.monitors) by[m.status] = (by[m.status] ?? 0) + 1;
    return Object.entries(by).map(([status, value]) => ({ labels: { status }, value }));
  });
  scrapeMetric(registry, 'cloudroutes_monitors_left_out', `Monitors of this zone without cloudroutes_monitor_* series, beyond CLOUDROUTES_METRICS_MAX_MONITORS (${opts.maxMonitors}); cloudroutes_monitors counts them`, 'gauge',
    async () => {
      const s = await snap();
      return s ? [{ value: s.monitors.length - shown(s).length }] : [];
    });
  scrapeMetric(registry, 'cloudroutes_monitor_status', 'Status of each monitor: 1 failed, 0 healthy, -1 unknown (not checked yet, or the check could not run)', 'gauge',
    perMonitor((m) => STATUS_VALUE[m.status] ?? -1));
  scrapeMetric(registry, 'cloudroutes_monitor_failcount', 'Consecutive failed results of each monitor', 'gauge', perMonitor((m) => m.failcount));
  scrapeMetric(registry, 'cloudroutes_monitor_last_latency_seconds', "Latency of each monitor's latest check (the sinks' /metrics have the histogram)", 'gauge',
    perMonitor((m) => (m.latencyMs === null ? null : m.latencyMs / 1000)));
  scrapeMetric(registry, 'cloudroutes_monitor_last_check_timestamp_seconds', "When each monitor's latest result was checked (Unix time)", 'gauge',
    perMonitor((m) => (m.lastCheck === null ? null : m.lastCheck / 1000)));
  registerCounterFamilies(registry, 'cloudroutes_zone_', "; summed over the zone's processes, from Redis", async () => {
    const s = await snap();
    return s ? counterEntries(s.counters) : [];
  });
  scrapeMetric(registry, 'cloudroutes_zone_schedule_lag_seconds', "Time from a monitor being due to its job being sent, over the zone's controls", 'histogram', async () => {
    const s = await snap();
    return s ? histogramSamples('cloudroutes_zone_schedule_lag_seconds', s.lag) : [];
  });
  scrapeMetric(registry, 'cloudroutes_zone_check_start_lag_seconds', "Time from a monitor being due to its check starting, over the zone's workers (queues included)", 'histogram', async () => {
    const s = await snap();
    return s ? histogramSamples('cloudroutes_zone_check_start_lag_seconds', s.startLag) : [];
  });
  scrapeMetric(registry, 'cloudroutes_processes', `The zone's processes by kind, from their heartbeats: live, or gone (missed ${GONE_AFTER_BEATS} heartbeats)`, 'gauge', async () => {
    const s = await snap();
    if (!s) return [];
    return PROCESS_KINDS.flatMap((kind) => (['live', 'gone'] as const).map((state) => ({
      labels: { zone: reader.zone, kind, state }, value: s.processes.filter((p) => p.kind === kind && p.state === state).length,
    })));
  });
  scrapeMetric(registry, 'cloudroutes_process_last_seen_age_seconds', "Time since each of the zone's processes last sent its heartbeat (Redis clock)", 'gauge', async () => {
    const s = await snap();
    return (s?.processes ?? []).map((p) => ({ labels: { zone: reader.zone, kind: p.kind, id: p.id, host: p.host, version: p.version }, value: p.ageMs / 1000 }));
  });
  const perStream = (value: (b: Backlog, stream: 'history' | 'events') => number) => async (): Promise<Sample[]> => {
    const s = await snap();
    return s ? (['history', 'events'] as const).map((stream) => ({ labels: { stream }, value: value(s.backlog, stream) })) : [];
  };
  scrapeMetric(registry, 'cloudroutes_zone_backlog_entries', "Records in the zone's Redis streams waiting for the store of record, by stream: results in history (up to 16 an entry), events", 'gauge',
    perStream((b, stream) => b[stream].waiting));
  scrapeMetric(registry, 'cloudroutes_zone_backlog_fill_ratio', 'Records waiting over CLOUDROUTES_BACKLOG_MAX, by stream (0 without a cap): past 1 the oldest history is trimmed (events never are); warn at 0.5 and 0.9', 'gauge',
    perStream((b, stream) => b[stream].fill));
  scrapeMetric(registry, 'cloudroutes_zone_backlog_max', 'CLOUDROUTES_BACKLOG_MAX: results kept waiting for the store of record in history at most (0: no limit)', 'gauge', async () => {
    const s = await snap();
    return s ? [{ value: s.backlog.cap }] : [];
  });
  scrapeMetric(registry, 'cloudroutes_zone_dead_letters', 'Entries the store of record refused, set aside ("cloudroutes backlog list"), by stream', 'gauge',
    perStream((b, stream) => b[stream].deadLetters));
  scrapeMetric(registry, 'cloudroutes_zone_store_up', "1 while the zone's bridge can write to the store of record, 0 while it cannot (as the bridge last said)", 'gauge', async () => {
    const s = await snap();
    return s ? [{ value: s.backlog.store?.up === false ? 0 : 1 }] : [];
  });
  scrapeMetric(registry, 'cloudroutes_zone_schedule_lag_max_seconds', "Largest schedule lag seen by the zone's controls", 'gauge', async () => {
    const s = await snap();
    return s ? [{ value: s.lag.max / 1000 }] : [];
  });
}

/** What each process puts on its own /metrics (see metrics-server.ts): its counters, histograms and gauges of its state. */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Counters } from './counters.js';
import { errors } from './errors.js';
import { registerCounterFamilies, scrapeMetric, SECONDS_BUCKETS, within } from './metrics.js';

/** This process's counters since it started (Counters.totals), as the cloudroutes_*_total families. */
export function exposeCounters(registry: Registry, counters: Counters): void {
  registerCounterFamilies(registry, 'cloudroutes_', `; this ${counters.proc} process, since it started`, () =>
    [...counters.totals].map(([name, value]) => [counters.proc, name, value]),
  );
}

/** A gauge whose value is read at each scrape. */
function gaugeOf(registry: Registry, name: string, help: string, value: () => number): void {
  new Gauge({
    name, help, registers: [registry],
    collect() {
      this.set(value());
    },
  });
}

/** What the broker's /metrics reads from it at scrape time. */
export interface BrokerState {
  queued(): number;
  maxQueued: number;
  /** Epoch ms the job at the head of the queue was queued; undefined when the queue is empty. */
  oldestQueuedAt(): number | undefined;
  credit: { size: number; total: number };
  /** Bad messages dropped as [socket, reason, count]. */
  badMessages(): [socket: string, reason: string, count: number][];
}

/** The broker's metrics: its counters, its queue, the workers it knows and their credit; bad messages also by socket. */
export function brokerMetrics(registry: Registry, counters: Counters, state: BrokerState): void {
  exposeCounters(registry, counters);
  // The same family as the other processes', with the socket added; its sum by reason is the counter's value.
  const bad = 'cloudroutes_bad_messages_dropped_total';
  registry.removeSingleMetric(bad);
  scrapeMetric(registry, bad, 'Malformed messages logged and dropped, by process, socket and reason; this broker process, since it started', 'counter',
    () => state.badMessages().map(([socket, reason, value]) => ({ labels: { process: counters.proc, socket, reason }, value })));
  // Present from the start (0), so an alert on it needs no first refusal to exist.
  scrapeMetric(registry, 'cloudroutes_broker_auth_refused_total', 'Connections this broker refused: a CURVE key not in its allowed clients file, or a failed CURVE handshake (no CURVE, another broker\'s key)', 'counter',
    () => [{ value: counters.get('auth_refused') }]);
  gaugeOf(registry, 'cloudroutes_broker_jobs_queued', 'Jobs held by this broker waiting for a worker with credit', state.queued);
  gaugeOf(registry, 'cloudroutes_broker_jobs_queued_limit', 'Jobs this broker holds at most; at the limit each new job pushes out the oldest', () => state.maxQueued);
  gaugeOf(registry, 'cloudroutes_broker_oldest_job_age_seconds', 'How long the oldest job held by this broker has waited for a worker (0: none waiting)', () => {
    const at = state.oldestQueuedAt();
    return at === undefined ? 0 : Math.max(0, Date.now() - at) / 1000;
  });
  gaugeOf(registry, 'cloudroutes_broker_workers', 'Workers this broker knows (heard from within the expiry)', () => state.credit.size);
  gaugeOf(registry, 'cloudroutes_broker_worker_credit', 'Jobs this broker may send now: free slots reported by its workers minus jobs sent they have not received', () => state.credit.total);
}

/** What the bridge's /metrics reads from it at scrape time. */
export interface BridgeState {
  /** The stream drains by stream (history, events). */
  drains: Record<string, { storeFailing: boolean; lastDrainedAt: number }>;
  configSync: { failing: boolean };
  /** Records in each stream waiting to be stored (results, events), by stream; rejects when Redis does not answer. */
  waiting(): Promise<Record<string, number>>;
}

/**
 * The bridge's metrics: its counters (entries and batches written, resyncs, store errors), whether its
 * store writes and config sync work, entries waiting in Redis (read once per scrape) and when each
 * stream was last drained.
 */
export function bridgeMetrics(registry: Registry, counters: Counters, state: BridgeState): void {
  exposeCounters(registry, counters);
  const drains = Object.entries(state.drains);
  gaugeOf(registry, 'cloudroutes_bridge_store_up', "1 while this bridge's writes of history and events to the store of record work, 0 while the last one failed", () =>
    (drains.some(([, d]) => d.storeFailing) ? 0 : 1));
  gaugeOf(registry, 'cloudroutes_bridge_config_sync_up', '1 while this bridge keeps Redis equal to the store\'s config, 0 while its last resync or change failed', () =>
    (state.configSync.failing ? 0 : 1));
  scrapeMetric(registry, 'cloudroutes_bridge_last_drain_timestamp_seconds', 'When this bridge last read a stream and stored what it read (an empty read counts; 0: not yet), by stream', 'gauge',
    () => drains.map(([stream, d]) => ({ labels: { stream }, value: d.lastDrainedAt / 1000 })));
  // One Redis probe serves both metrics of a scrape.
  let probe: { at: number; waiting: Promise<Record<string, number> | undefined> } | undefined;
  const waiting = () => {
    if (!probe || Date.now() - probe.at > 500) probe = { at: Date.now(), waiting: within(state.waiting(), 1000, 'Redis').catch(() => undefined) };
    return probe.waiting;
  };
  scrapeMetric(registry, 'cloudroutes_bridge_entries_waiting', "Records in this zone's Redis streams waiting to be stored, by stream: results in history, events (left out when Redis does not answer)", 'gauge',
    async () => Object.entries((await waiting()) ?? {}).map(([stream, value]) => ({ labels: { stream }, value })));
  scrapeMetric(registry, 'cloudroutes_redis_up', '0: Redis did not answer this scrape within 1 s', 'gauge', async () => [{ value: (await waiting()) ? 1 : 0 }]);
}

/** The control's metrics; call lag() for each job sent. */
export function controlMetrics(registry: Registry, counters: Counters): { lag(ms: number): void } {
  exposeCounters(registry, counters);
  const lag = new Histogram({
    name: 'cloudroutes_schedule_lag_seconds', help: 'Time from a monitor being due to its job being sent to the broker',
    buckets: SECONDS_BUCKETS, registers: [registry],
  });
  return { lag: (ms) => lag.observe(Math.max(0, ms) / 1000) };
}

/** The worker's metrics; call startLag() when a check starts and checked() when it ends. */
export function workerMetrics(
  registry: Registry, counters: Counters, running: () => number,
): { startLag(ms: number): void; checked(ctype: string, result: string, ms: number): void } {
  exposeCounters(registry, counters);
  gaugeOf(registry, 'cloudroutes_checks_running', 'Checks running in this worker now', running);
  const duration = new Histogram({
    name: 'cloudroutes_check_duration_seconds', help: 'How long checks took in this worker, by check type and result',
    labelNames: ['ctype', 'result'], buckets: SECONDS_BUCKETS, registers: [registry],
  });
  const startLag = new Histogram({
    name: 'cloudroutes_check_start_lag_seconds', help: 'Time from a monitor being due to its check starting in this worker (queues included)',
    buckets: SECONDS_BUCKETS, registers: [registry],
  });
  return {
    startLag: (ms) => startLag.observe(ms / 1000),
    checked: (ctype, result, ms) => duration.observe({ ctype, result }, ms / 1000),
  };
}

/** A fix is verified every few seconds for up to minutes (the verification window, 2 minutes by default). */
const FIX_BUCKETS = [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

/** Most monitors with their own series (env CLOUDROUTES_METRICS_MAX_MONITORS; a sink's latency histograms by default 1000). */
export function monitorSeriesCap(env: NodeJS.ProcessEnv = process.env, fallback = 1000): number {
  const v = env.CLOUDROUTES_METRICS_MAX_MONITORS;
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw errors.badSetting('CLOUDROUTES_METRICS_MAX_MONITORS', v, 'expected a whole number of monitors, 0 or more');
  return n;
}

/** Up to `max` distinct values keep their own label value; the rest share "other" (a histogram series is a dozen time series). */
function cappedLabel(max: number): (value: string) => string {
  const own = new Set<string>();
  return (value) => {
    if (!own.has(value) && own.size < max) own.add(value);
    return own.has(value) ? value : 'other';
  };
}

/**
 * The sink's metrics; call latency() for each result recorded with a latency, fixed() for each fix verified fixed.
 * Only the first `maxMonitors` monitors (and reactions) seen get their own histogram series; the rest share
 * `monitor_id="other"` (`reaction_id="other"`).
 */
export function sinkMetrics(registry: Registry, counters: Counters, maxMonitors = monitorSeriesCap()): {
  latency(monitorId: string, ms: number): void;
  fixed(reactionId: string, ms: number): void;
} {
  exposeCounters(registry, counters);
  const latency = new Histogram({
    name: 'cloudroutes_monitor_latency_seconds', help: `Check latency of each monitor whose results this sink recorded (the first ${maxMonitors} monitors seen; the rest as monitor_id="other")`,
    labelNames: ['monitor_id'], buckets: SECONDS_BUCKETS, registers: [registry],
  });
  const fixed = new Histogram({
    name: 'cloudroutes_fix_to_healthy_seconds', help: `Time from a fix's run to the healthy result that verified it fixed, by reaction, as this sink recorded it (the first ${maxMonitors} reactions seen; the rest as reaction_id="other")`,
    labelNames: ['reaction_id'], buckets: FIX_BUCKETS, registers: [registry],
  });
  const monitorLabel = cappedLabel(maxMonitors);
  const reactionLabel = cappedLabel(maxMonitors);
  return {
    latency: (monitorId, ms) => latency.observe({ monitor_id: monitorLabel(monitorId) }, ms / 1000),
    fixed: (reactionId, ms) => fixed.observe({ reaction_id: reactionLabel(reactionId) }, ms / 1000),
  };
}

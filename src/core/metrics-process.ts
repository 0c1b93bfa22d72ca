/** What the control, worker and sink put on their own /metrics (see metrics-server.ts): their counters and histograms. */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Counters } from './counters.js';
import { registerCounterFamilies, SECONDS_BUCKETS } from './metrics.js';

/** This process's counters since it started (Counters.totals), as the cloudroutes_*_total families. */
export function exposeCounters(registry: Registry, counters: Counters): void {
  registerCounterFamilies(registry, 'cloudroutes_', `; this ${counters.proc} process, since it started`, () =>
    [...counters.totals].map(([name, value]) => [counters.proc, name, value]),
  );
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
  new Gauge({
    name: 'cloudroutes_checks_running', help: 'Checks running in this worker now', registers: [registry],
    collect() {
      this.set(running());
    },
  });
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

/** Most monitors with their own latency series in a sink (env CLOUDROUTES_METRICS_MAX_MONITORS, default 1000). */
export function monitorSeriesCap(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CLOUDROUTES_METRICS_MAX_MONITORS || 1000);
  return Number.isInteger(n) && n >= 0 ? n : 1000;
}

/**
 * The sink's metrics; call latency() for each result recorded with a latency. Each histogram series
 * per monitor is a dozen time series, so only the first `maxMonitors` monitors seen get their own;
 * the rest share `monitor_id="other"`.
 */
export function sinkMetrics(registry: Registry, counters: Counters, maxMonitors = monitorSeriesCap()): { latency(monitorId: string, ms: number): void } {
  exposeCounters(registry, counters);
  const latency = new Histogram({
    name: 'cloudroutes_monitor_latency_seconds', help: `Check latency of each monitor whose results this sink recorded (the first ${maxMonitors} monitors seen; the rest as monitor_id="other")`,
    labelNames: ['monitor_id'], buckets: SECONDS_BUCKETS, registers: [registry],
  });
  const own = new Set<string>();
  return {
    latency(monitorId, ms) {
      if (!own.has(monitorId) && own.size < maxMonitors) own.add(monitorId);
      latency.observe({ monitor_id: own.has(monitorId) ? monitorId : 'other' }, ms / 1000);
    },
  };
}

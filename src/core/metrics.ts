/**
 * Prometheus metrics shared by every process: metrics computed at scrape time, the counters of
 * `cloudroutes stats` as metric families, and the Redis lag histogram as a Prometheus histogram.
 */
import type { Metric, Registry } from 'prom-client';
import { Histogram } from './histogram.js';
import { errors } from './errors.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  /** For histograms: `<name>_bucket`, `<name>_sum`, `<name>_count`. */
  metricName?: string;
}

/** Bounds (seconds) of the latency and lag histograms: 5 ms to a minute. */
export const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Registers a metric whose samples are computed at each scrape, so its label sets can come and go. */
export function scrapeMetric(registry: Registry, name: string, help: string, type: MetricType, samples: () => Promise<Sample[]> | Sample[]): void {
  const metric = {
    name, help, type, aggregator: 'sum',
    reset: () => undefined,
    get: async () => ({ name, help, type, aggregator: 'sum', values: await samples() }),
  };
  registry.registerMetric(metric as unknown as Metric);
}

/** One counter as `<process>.<name>` = value, as the zone's counters hash and Counters.totals hold them. */
export type CounterEntry = [process: string, name: string, value: number];

interface Family {
  suffix: string;
  help: string;
  /** Labels for a counter of this family, or undefined when it is not one. */
  match(proc: string, name: string): Record<string, string> | undefined;
}

const prefixed = (prefix: string, label: string, withProcess: boolean): Family['match'] => (proc, name) => {
  if (!name.startsWith(`${prefix}.`)) return undefined;
  return { ...(withProcess ? { process: proc } : {}), [label]: name.slice(prefix.length + 1) };
};

const FAMILIES: Family[] = [
  { suffix: 'checks_total', help: 'Checks run, by result (healthy, failed, unknown)', match: prefixed('checks', 'result', false) },
  { suffix: 'reactions_total', help: 'Reaction runs, by outcome (ran, failed, skipped)', match: prefixed('reactions', 'outcome', false) },
  { suffix: 'bad_messages_dropped_total', help: 'Malformed messages logged and dropped, by process and reason', match: prefixed('bad_messages', 'reason', true) },
  { suffix: 'results_recorded_total', help: 'Check results recorded in Redis by sinks', match: (_p, name) => (name === 'results_recorded' ? {} : undefined) },
  { suffix: 'history_trimmed_total', help: 'Results trimmed from the history stream before the store of record took them, past CLOUDROUTES_BACKLOG_MAX', match: (_p, name) => (name === 'history_trimmed' ? {} : undefined) },
];
const OTHER: Family = { suffix: 'counter_total', help: 'Every other counter of "cloudroutes stats", by process and counter name', match: (proc, name) => ({ process: proc, counter: name }) };

/** The family a counter belongs to and its labels. */
function classify(proc: string, name: string): [Family, Record<string, string>] {
  for (const f of FAMILIES) {
    const labels = f.match(proc, name);
    if (labels) return [f, labels];
  }
  return [OTHER, OTHER.match(proc, name)!];
}

/**
 * Registers the counter families `<prefix>checks_total{result}`, `<prefix>reactions_total{outcome}`,
 * `<prefix>bad_messages_dropped_total{process,reason}`, `<prefix>results_recorded_total` and
 * `<prefix>counter_total{process,counter}`, their values read from `entries` at each scrape.
 */
export function registerCounterFamilies(registry: Registry, prefix: string, helpSuffix: string, entries: () => Promise<CounterEntry[]> | CounterEntry[]): void {
  for (const family of [...FAMILIES, OTHER]) {
    scrapeMetric(registry, `${prefix}${family.suffix}`, `${family.help}${helpSuffix}`, 'counter', async () => {
      const out: Sample[] = [];
      for (const [proc, name, value] of await entries()) {
        const [f, labels] = classify(proc, name);
        if (f === family) out.push({ labels, value });
      }
      return out;
    });
  }
}

/** Splits the zone's counters hash (`<process>.<name>` -> total) into entries. */
export function counterEntries(hash: Record<string, string>): CounterEntry[] {
  const out: CounterEntry[] = [];
  for (const [field, v] of Object.entries(hash)) {
    const dot = field.indexOf('.');
    const value = Number(v);
    if (dot <= 0 || !Number.isFinite(value)) continue;
    out.push([field.slice(0, dot), field.slice(dot + 1), value]);
  }
  return out;
}

/**
 * A log-bucketed millisecond histogram (src/core/histogram.ts) as Prometheus histogram samples in
 * seconds. Its ~5% buckets are placed by their lower edge, so a `le` count can include values up to
 * 5% above `le`, and `_sum` (not kept in Redis) is estimated from the lower edges.
 */
export function histogramSamples(name: string, h: Histogram, bounds = SECONDS_BUCKETS): Sample[] {
  const edges = [...h.buckets.entries()].sort((a, b) => a[0] - b[0]);
  const out: Sample[] = [];
  let sum = 0;
  for (const [b, n] of edges) sum += b * n;
  for (const le of bounds) {
    let count = 0;
    for (const [b, n] of edges) if (b <= le * 1000) count += n;
    out.push({ metricName: `${name}_bucket`, labels: { le }, value: count });
  }
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, value: sum / 1000 });
  out.push({ metricName: `${name}_count`, value: h.count });
  return out;
}

/** Rejects naming `what` when `p` has not settled within `ms` (for probes of Redis and the store at scrape and /health time). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(errors.noAnswer(what, ms)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

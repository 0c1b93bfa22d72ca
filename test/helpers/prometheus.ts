/** A strict reader of the Prometheus text format (0.0.4), so tests can check that /metrics parses and read its samples. */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  /** Metric family name -> type, from the # TYPE lines. */
  types: Map<string, string>;
  samples: PromSample[];
  /** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;

function parseValue(v: string, line: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN' || v === 'Nan') return NaN;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^[-+]?[\d.]+(?:e[-+]?\d+)?$/i.test(v)) throw new Error(`bad value in: ${line}`);
  return n;
}

/** Parses `text`; throws naming the first line that is not valid Prometheus text. */
export function parsePrometheus(text: string): PromText {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (!m) throw new Error(`bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`bad type: ${line}`);
        if (types.has(m[2]!)) throw new Error(`metric ${m[2]} typed twice`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`bad labels in: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const family = m[1]!.replace(/_(bucket|sum|count|total)$/, '');
    if (!types.has(m[1]!) && !types.has(family) && !types.has(m[1]!.replace(/_(bucket|sum|count)$/, ''))) throw new Error(`sample before its # TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value: parseValue(m[3]!, line) });
  }
  return {
    types, samples,
    value(name, want = {}) {
      const hits = samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
      if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(want)}`);
      return hits[0]?.value;
    },
  };
}

/** GETs `url` and parses its answer; throws unless it is a 200. */
export async function scrapePrometheus(url: string): Promise<PromText> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${await r.text()}`);
  return parsePrometheus(await r.text());
}

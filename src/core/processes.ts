/** The zone's processes as their heartbeats tell them (see heartbeat.ts): which are live, which are gone, which kinds are missing. */
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

export const PROCESS_KINDS = ['control', 'broker', 'worker', 'sink', 'bridge', 'web'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];

/** The kinds without which a zone's monitors are not checked or their results not recorded. */
export const REQUIRED_KINDS: readonly ProcessKind[] = ['control', 'broker', 'worker', 'sink'];

/** Heartbeats a process may miss before it counts as gone. */
export const GONE_AFTER_BEATS = 3;

/** What a process says of itself in its heartbeat. */
export interface ProcessEntry {
  kind: ProcessKind;
  /** host:pid:start, unique over restarts. */
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Redis time of its first heartbeat (ms). */
  started: number;
  /** How often it beats (ms). */
  intervalMs: number;
  /** Checks (worker) or reactions (sink) it runs at once. */
  concurrency?: number;
}

export interface ProcessRow extends ProcessEntry {
  /** Redis time of its last heartbeat (ms). */
  lastSeen: number;
  ageMs: number;
  uptimeMs: number;
  state: 'live' | 'gone';
}

export interface ZoneProcesses {
  zone: string;
  /** Redis time of the read (ms). */
  now: number;
  /** By kind (in PROCESS_KINDS order), then host and pid. */
  processes: ProcessRow[];
  /** Required kinds without a live process. */
  missing: ProcessKind[];
}

/** Reads the zone's heartbeats in one round trip and judges each on the Redis clock. */
export async function readProcesses(redis: Redis, zone: string): Promise<ZoneProcesses> {
  const k = keys(zone);
  const replies = await redis.multi().time().hgetall(k.processes).zrange(k.processesSeen, 0, -1, 'WITHSCORES').exec();
  for (const [err] of replies ?? []) if (err) throw err;
  const [[, time], [, entries], [, seen]] = replies as [[null, [string, string]], [null, Record<string, string>], [null, string[]]];
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const lastSeen = new Map<string, number>();
  for (let i = 0; i + 1 < seen.length; i += 2) lastSeen.set(seen[i]!, Number(seen[i + 1]));
  const processes: ProcessRow[] = [];
  for (const [id, json] of Object.entries(entries)) {
    const at = lastSeen.get(id);
    const entry = parseEntry(json);
    if (at === undefined || !entry) continue;
    const ageMs = Math.max(0, now - at);
    processes.push({
      kind: entry.kind, id, host: entry.host, pid: entry.pid, version: entry.version,
      ...(entry.concurrency === undefined ? {} : { concurrency: entry.concurrency }),
      intervalMs: entry.intervalMs, started: entry.started, lastSeen: at, ageMs, uptimeMs: Math.max(0, now - entry.started),
      state: ageMs > GONE_AFTER_BEATS * entry.intervalMs ? 'gone' : 'live',
    });
  }
  const order = (p: ProcessRow) => PROCESS_KINDS.indexOf(p.kind);
  processes.sort((a, b) => order(a) - order(b) || a.host.localeCompare(b.host) || a.pid - b.pid);
  return { zone, now, processes, missing: missingKinds(processes) };
}

/** The required kinds of which no process is live. */
export function missingKinds(processes: Pick<ProcessRow, 'kind' | 'state'>[]): ProcessKind[] {
  return REQUIRED_KINDS.filter((kind) => !processes.some((p) => p.kind === kind && p.state === 'live'));
}

function parseEntry(json: string): ProcessEntry | undefined {
  try {
    const e = JSON.parse(json) as ProcessEntry;
    return typeof e.kind === 'string' && typeof e.intervalMs === 'number' && typeof e.started === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}

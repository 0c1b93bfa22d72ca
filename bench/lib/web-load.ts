/**
 * Bench child: a fixed-concurrency HTTP load from its own process. One undici Pool with keep-alive connections, one
 * request in flight per connection; a warm-up, then a measured window. Reads its requests from a JSON file.
 * Prints one JSON line: { warmupOk, requests, errors, firstError, seconds, perSec, p50Ms, p99Ms, maxMs, statuses, cpuSec }.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export interface LoadRequest {
  path: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadConfig {
  origin: string;
  requestsFile: string;
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
}

export interface LoadResult {
  /** 2xx answers during the warm-up (not in the figures). */
  warmupOk: number;
  requests: number;
  errors: number;
  firstError: string;
  seconds: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
  cpuSec: number;
}

const config = JSON.parse(process.argv[2]!) as LoadConfig;
const requests = JSON.parse(readFileSync(config.requestsFile, 'utf8')) as LoadRequest[];
const pool = new Pool(config.origin, { connections: config.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });

let next = 0;
let measuring = false;
let warmupOk = 0;
let errors = 0;
let firstError = '';
const latencies: number[] = [];
const statuses: Record<string, number> = {};

async function one(): Promise<void> {
  const r = requests[next++ % requests.length]!;
  const t0 = performance.now();
  try {
    const res = await pool.request({ path: r.path, method: r.method, headers: r.headers, body: r.body });
    await res.body.dump();
    if (!measuring) {
      if (res.statusCode < 300) warmupOk++;
      return;
    }
    latencies.push(performance.now() - t0);
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    if (res.statusCode >= 300) errors++;
  } catch (err) {
    if (!measuring) return;
    errors++;
    firstError ||= (err as Error).message;
  }
}

async function loop(until: () => boolean): Promise<void> {
  while (!until()) await one();
}

const warmEnd = performance.now() + config.warmupSeconds * 1000;
await Promise.all(Array.from({ length: config.concurrency }, () => loop(() => performance.now() >= warmEnd)));
measuring = true;
const started = performance.now();
const cpu0 = process.cpuUsage();
const end = started + config.seconds * 1000;
await Promise.all(Array.from({ length: config.concurrency }, () => loop(() => performance.now() >= end)));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
await pool.close();

latencies.sort((a, b) => a - b);
const q = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! : NaN);
const round = (ms: number) => Math.round(ms * 100) / 100;
const result: LoadResult = {
  warmupOk, requests: latencies.length, errors, firstError, seconds, perSec: (latencies.length - errors) / seconds,
  p50Ms: round(q(0.5)), p99Ms: round(q(0.99)), maxMs: round(latencies[latencies.length - 1] ?? NaN), statuses, cpuSec: (cpu.user + cpu.system) / 1e6,
};
process.stdout.write(JSON.stringify(result) + '\n');

/**
 * The web ingest benchmark: redis-server, `cloudroutes broker`, `cloudroutes sink` and `cloudroutes web` as real
 * processes, N heartbeat and N webhook monitors put into Redis as the bridge would, then heartbeat pings
 * (GET /ping/<token>) and webhook calls (POST /api/v1/webhook/<id>) at a fixed concurrency from a separate undici
 * process, and the same load against a minimal node:http server (the baseline) in the same run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { encryptFields } from '../src/core/crypto.js';
import { keys } from '../src/core/keys.js';
import { checkLoader } from '../src/core/plugins.js';
import type { Monitor } from '../src/core/types.js';
import { firstJsonLine, startChild, stopChild, type Child } from './lib/children.js';
import { positiveInt as positive, progressTo, runBench, type BenchRun } from './lib/lifecycle.js';
import { freePort, freePortRange } from './lib/ports.js';
import { sampleProc } from './lib/procstat.js';
import type { Redis } from 'ioredis';
import { startRedis } from './lib/redis.js';
import type { LoadConfig, LoadRequest, LoadResult } from './lib/web-load.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const LOAD = fileURLToPath(new URL('./lib/web-load.js', import.meta.url));
const TARGET = fileURLToPath(new URL('./lib/target-server.js', import.meta.url));
const ZONE = 'bench';

const program = new Command('npm run bench:web --')
  .description(
    'Benchmarks webhook and heartbeat ingest: starts redis-server and broker, sink and web as separate processes (as the\n' +
      'Procfile runs them), puts N heartbeat and N webhook monitors into Redis as the bridge would, then from a separate\n' +
      'undici process (keep-alive pool, one request in flight per connection) sends GET /ping/<token> and POST\n' +
      '/api/v1/webhook/<id> at a fixed concurrency, each for a warm-up and a measured window, and the same load against a\n' +
      'minimal node:http server answering 200 (the baseline). Prints requests/s, p50/p99 latency and ours/baseline.',
  )
  .option('--monitors <n>', 'heartbeat monitors, and as many webhook monitors', positive('--monitors'), 1000)
  .option('--concurrency <n>', 'requests in flight (= keep-alive connections)', positive('--concurrency'), 64)
  .option('--duration <s>', 'measured seconds per load', positive('--duration'), 10)
  .option('--warmup <s>', 'seconds of each load before its window, excluded', positive('--warmup'), 2)
  .option('--cpu-prof <dir>', 'run the web process with node --cpu-prof, writing web.cpuprofile into <dir>')
  .option('--json', 'also print every figure as one JSON object on the last line of stdout')
  .addHelpText('after', '\nExample:\n  npm run bench:web -- --monitors 1000 --concurrency 64 --duration 10 --json\n\nProgress goes to stderr; the report to stdout. Linux only (reads /proc for CPU).')
  .showHelpAfterError();

interface Options {
  monitors: number;
  concurrency: number;
  duration: number;
  warmup: number;
  cpuProf?: string;
  json?: boolean;
}

interface Phase extends LoadResult {
  name: string;
  /** CPU the server process used per second of the window (100 = one core). */
  serverCpuPct: number;
}

const progress = progressTo('bench:web');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
async function listening(port: number, ms: number, run: BenchRun): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
    await Promise.race([sleep(100), run.crashed]);
  }
}

/** Puts `n` monitors of `ctype` into Redis as the bridge would (nothing due for an hour); returns each one's token. */
async function putTold(redis: Redis, ctype: string, n: number, key: Buffer): Promise<{ id: string; token: string }[]> {
  const mod = await checkLoader().load(ctype);
  const k = keys(ZONE);
  const out: { id: string; token: string }[] = [];
  for (let from = 0; from < n; from += 1000) {
    const p = redis.pipeline();
    const now = Date.now();
    for (let i = from; i < Math.min(n, from + 1000); i++) {
      const id = `m-${ctype[0]}${String(i).padStart(8, '0')}`;
      const data = mod.prepareData!({}, { id });
      const monitor: Monitor = { id, name: `${ctype} ${i}`, ctype, interval: 3600, data: encryptFields(key, data, mod.meta.fields, { kind: 'monitor', id }), reactions: [], createdAt: now, updatedAt: now };
      p.applyMonitor(k.monitor(id), k.intervals, k.monitors, k.schedule, k.state(id), id, JSON.stringify(monitor), 3_600_000, now, 3_600_000);
      out.push({ id, token: data.token as string });
    }
    await p.exec();
  }
  return out;
}

/** Runs one load child against `origin` and measures `server`'s CPU during its window. */
async function load(run: BenchRun, name: string, origin: string, reqs: LoadRequest[], server: Child, o: Options): Promise<Phase> {
  const file = join(run.tmp!, `${name}.json`);
  writeFileSync(file, JSON.stringify(reqs));
  const config: LoadConfig = { origin, requestsFile: file, concurrency: o.concurrency, warmupSeconds: o.warmup, seconds: o.duration };
  progress(`${name}: ${o.concurrency} in flight, ${o.warmup} s warm-up + ${o.duration} s...`);
  const child = startChild(`load-${name}`, 'baseline', process.execPath, [LOAD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stopping = true; // it exits by itself once it has printed its figures
  await Promise.race([sleep(o.warmup * 1000), run.crashed]);
  const c0 = sampleProc(server.pid)!;
  const t0 = Date.now();
  const r = await Promise.race([firstJsonLine<LoadResult>(child, (o.warmup + o.duration + 60) * 1000), run.crashed]);
  const cpu = sampleProc(server.pid)!.cpuSec - c0.cpuSec;
  await stopChild(child);
  progress(`${name}: ${r.perSec.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (${r.errors} errors${r.firstError ? `, e.g. ${r.firstError}` : ''}; statuses ${JSON.stringify(r.statuses)})`);
  return { name, ...r, serverCpuPct: (100 * cpu) / ((Date.now() - t0) / 1000) };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

function report(o: Options, ping: Phase, webhook: Phase, baseline: Phase, sink: { recorded: number; accepted: number }): void {
  const ratio = (p: Phase) => p.perSec / baseline.perSec;
  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const rows = [['load', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'server CPU %', 'ours/baseline'],
    ...[ping, webhook, baseline].map((p) => [p.name, fmt(p.perSec), fmt(p.p50Ms, 2), fmt(p.p99Ms, 2), fmt(p.maxMs, 1), String(p.errors), fmt(p.serverCpuPct), p === baseline ? '' : fmt(ratio(p), 2)])];
  const out = [
    `web ingest, ${o.monitors} heartbeat + ${o.monitors} webhook monitors, ${o.concurrency} in flight (keep-alive), ${o.duration} s each after ${o.warmup} s warm-up`,
    table(rows),
    'ping = GET /ping/<token>; webhook = POST /api/v1/webhook/<id> (each one pushed to the broker); baseline = a node:http server answering 200 to the same GETs',
    `the sink had recorded ${sink.recorded} of the ${sink.accepted} accepted webhook calls (warm-up included) 3 s after the load`,
    `target 5,000 pings/s with p99 < 50 ms: ${ping.perSec >= 5000 && ping.p99Ms < 50 ? 'met' : 'not met'}`,
  ];
  if (o.json) {
    const pick = ({ name: _, ...p }: Phase) => p;
    out.push(JSON.stringify({
      monitors: o.monitors, concurrency: o.concurrency, durationSec: o.duration, warmupSec: o.warmup,
      ping: pick(ping), webhook: pick(webhook), baseline: pick(baseline), pingRatio: ratio(ping), webhookRatio: ratio(webhook), sink,
    }));
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(o: Options, run: BenchRun): Promise<void> {
  const tmp = (run.tmp = mkdtempSync(join(tmpdir(), 'cr-bench-web-')));
  const redis = await startRedis(tmp);
  const key = randomBytes(32);
  const webPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env, REDIS_URL: redis.url, CLOUDROUTES_ZONE: ZONE, CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)),
    CLOUDROUTES_DATA_DIR: tmp, CLOUDROUTES_STORE: `sqlite:${join(tmp, 'cr.db')}`, CLOUDROUTES_SECRET_KEY: key.toString('hex'), LOG_LEVEL: 'warn',
  };
  const spawnCr = (name: string, args: string[], flags: string[] = []) => {
    const log = openSync(join(tmp, `${name}.log`), 'a');
    return startChild(name, 'cloudroutes', process.execPath, [...flags, MAIN, ...args], { env, stdio: ['ignore', log, log] });
  };
  spawnCr('broker', ['broker']);
  const sink = spawnCr('sink', ['sink']);
  const prof = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, '--cpu-prof-name=web.cpuprofile'] : [];
  const web = spawnCr('web', ['web', '--port', String(webPort)], prof);
  const origin = `http://127.0.0.1:${webPort}`;
  await listening(webPort, 20_000, run);
  progress(`redis ${redis.url}, broker, sink ${sink.pid} and web ${web.pid} on ${origin} (real processes)`);

  const heartbeats = await putTold(redis.client, 'heartbeat', o.monitors, key);
  const webhooks = await putTold(redis.client, 'webhook', o.monitors, key);
  progress(`${o.monitors} heartbeat and ${o.monitors} webhook monitors in Redis`);
  const pings: LoadRequest[] = heartbeats.map((m) => ({ path: `/ping/${m.token}`, method: 'GET' }));
  const calls: LoadRequest[] = webhooks.map((m, i) => ({
    path: `/api/v1/webhook/${m.id}`, method: 'POST', headers: { 'content-type': 'application/json', 'x-cloudroutes-token': m.token },
    body: JSON.stringify({ status: 'healthy', message: `call ${i}` }),
  }));
  // Results added to history (an entry holds up to 16), not entries.
  const history0 = Number(await redis.client.get(keys(ZONE).historyAdded));
  const ping = await load(run, 'ping', origin, pings, web, o);
  const webhook = await load(run, 'webhook', origin, calls, web, o);
  await sleep(3000);
  const recorded = Number(await redis.client.get(keys(ZONE).historyAdded)) - history0;
  if (o.cpuProf) await stopChild(web, 8000);

  const target = startChild('baseline-server', 'target', process.execPath, [TARGET], { stdio: ['pipe', 'pipe', 'inherit'] });
  const { port } = await firstJsonLine<{ port: number }>(target, 10_000);
  const baseline = await load(run, 'baseline', `http://127.0.0.1:${port}`, pings, target, o);
  redis.client.disconnect();
  await run.stop();
  report(o, ping, webhook, baseline, { recorded, accepted: webhook.warmupOk + (webhook.statuses['202'] ?? 0) });
}

await runBench<Options>(program, progress, main);

/** Heartbeats of real processes: `cloudroutes cluster`, `stats`, /metrics and /health see a killed worker go and come back. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import type { ProcessRow } from '../src/core/processes.js';
import type { HealthReport } from '../src/web/routes/health.js';
import { openStore } from '../src/store/open.js';
import { putMonitor, waitFor } from './helpers/cluster.js';
import { httpPeer, type Peer } from './helpers/peers.js';
import { cli, Proc } from './helpers/procs.js';
import { scrapePrometheus } from './helpers/prometheus.js';
import { freePort, freePortRange, RedisServer } from './helpers/redis-server.js';

const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
const BEAT_MS = 300;
/** 3 missed beats, and a margin for a loaded machine. */
const GRACE_MS = 3 * BEAT_MS + 3000;

const dir = mkdtempSync(join(tmpdir(), 'cr-cluster-procs-'));
const server = new RedisServer();
let redis: Redis;
let target: Peer;
let webUrl: string;
const env: NodeJS.ProcessEnv = {};
const procs: Record<string, Proc> = {};

interface ClusterJson {
  zone: string;
  monitors: number;
  processes: ProcessRow[];
  missing: string[];
}

async function cluster(extra: string[] = []): Promise<{ code: number; out: ClusterJson; stderr: string }> {
  const r = await cli(['cluster', '--json', ...extra], env);
  return { code: r.code, out: JSON.parse(r.stdout) as ClusterJson, stderr: r.stderr };
}

const start = (name: string, extraEnv: NodeJS.ProcessEnv = {}) => (procs[name] = new Proc([name], { ...env, ...extraEnv }).start());

async function health(): Promise<{ status: number; body: HealthReport }> {
  const r = await fetch(`${webUrl}/health`);
  return { status: r.status, body: (await r.json()) as HealthReport };
}

const metrics = () => scrapePrometheus(`${webUrl}/metrics`);

test.before(async () => {
  await server.start();
  redis = server.client();
  target = await httpPeer((_req, res) => res.end('ok'));
  const webPort = await freePort();
  webUrl = `http://127.0.0.1:${webPort}`;
  Object.assign(env, {
    REDIS_URL: server.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'cd'.repeat(32),
    CLOUDROUTES_HEARTBEAT_INTERVAL: `${BEAT_MS}ms`, CLOUDROUTES_WEB_PORT: String(webPort),
  });
  const store = await openStore(env.CLOUDROUTES_STORE!);
  await store.putMonitor(await putMonitor(redis, 'default', { id: 'm-web', ctype: 'http-get-statuscode', data: { url: `${target.url}/`, codes: ['200'] } }));
  await store.close();
  for (const name of ['broker', 'control', 'worker', 'sink', 'bridge', 'web']) start(name);
  await procs.web!.waitFor('"web listening"');
});
test.after(async () => {
  await Promise.all(Object.values(procs).map((p) => p.kill('SIGKILL')));
  await target.close();
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('cloudroutes cluster lists every kind live with its version, host, pid and concurrency, and exits 0', async () => {
  const { code, out, stderr } = await waitFor(async () => {
    const r = await cluster();
    return r.out.processes.length === 6 ? r : undefined;
  }, 10_000, 'six processes');
  assert.is(code, 0, stderr);
  assert.is(out.zone, 'default');
  assert.is(out.monitors, 1);
  assert.equal(out.missing, []);
  assert.equal(out.processes.map((p) => p.kind), ['control', 'broker', 'worker', 'sink', 'bridge', 'web']);
  for (const p of out.processes) {
    assert.is(p.state, 'live', p.kind);
    assert.is(p.version, VERSION, p.kind);
    assert.is(p.pid, procs[p.kind]!.child.pid, p.kind);
    assert.is(p.id, `${p.host}:${p.pid}:${p.id.split(':')[2]}`);
    assert.ok(p.ageMs < GRACE_MS && p.uptimeMs >= 0);
  }
  assert.is(out.processes.find((p) => p.kind === 'worker')!.concurrency, 256);
  assert.is(out.processes.find((p) => p.kind === 'sink')!.concurrency, 16, 'reactions of one type at once');
  const table = await cli(['cluster'], env);
  assert.is(table.code, 0);
  assert.match(table.stdout, /^zone default: 1 monitors, 6 processes live, 0 gone$/m);
  assert.match(table.stdout, new RegExp(`^worker +\\S+ +${procs.worker!.child.pid} +${VERSION.replace(/\./g, '\\.')} +256 .* live$`, 'm'));
  const h = await waitFor(async () => ((await health()).status === 200 ? health() : undefined), 10_000, '/health 200');
  assert.equal(h.body.processes.live, { control: 1, broker: 1, worker: 1, sink: 1, bridge: 1, web: 1 });
});

test('a worker killed with -9 turns gone within the grace: cluster exits 3 naming it, stats, /metrics and /health say so', async () => {
  const pid = procs.worker!.child.pid;
  await procs.worker!.kill('SIGKILL');
  const killedAt = Date.now();
  const gone = await waitFor(async () => {
    const r = await cluster();
    return r.out.processes.find((p) => p.kind === 'worker' && p.state === 'gone') ? r : undefined;
  }, GRACE_MS + 2000, 'the worker shown gone');
  assert.ok(Date.now() - killedAt < GRACE_MS + 2000);
  assert.is(gone.code, 3, gone.stderr);
  assert.equal(gone.out.missing, ['worker']);
  const row = gone.out.processes.find((p) => p.kind === 'worker')!;
  assert.is(row.pid, pid);
  assert.ok(row.ageMs > 3 * BEAT_MS);
  assert.match(gone.stderr, /error \[CR_PROCESSES_MISSING\]: zone "default" has 1 monitor\(s\) but no live worker.*start "cloudroutes worker"/);

  const stats = await cli(['stats'], env);
  assert.is(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, new RegExp(`^gone: worker \\S+ pid ${pid} \\(no heartbeat for \\d+s\\)`, 'm'));
  const statsJson = JSON.parse((await cli(['stats', '--json'], env)).stdout) as { gone: { kind: string; pid: number }[] };
  assert.equal(statsJson.gone.map((g) => [g.kind, g.pid]), [['worker', pid]]);

  const m = await waitFor(async () => {
    const t = await metrics();
    return t.value('cloudroutes_processes', { kind: 'worker', state: 'gone' }) === 1 ? t : undefined;
  }, 3000, '/metrics to count the worker gone');
  assert.is(m.value('cloudroutes_processes', { zone: 'default', kind: 'worker', state: 'live' }), 0);
  assert.is(m.value('cloudroutes_processes', { zone: 'default', kind: 'sink', state: 'live' }), 1);
  assert.is(m.types.get('cloudroutes_processes'), 'gauge');
  assert.ok(m.value('cloudroutes_process_last_seen_age_seconds', { kind: 'worker', id: row.id })! > (3 * BEAT_MS) / 1000);
  assert.ok(m.value('cloudroutes_process_last_seen_age_seconds', { kind: 'sink' })! < GRACE_MS / 1000);

  const h = await health();
  assert.is(h.status, 503);
  assert.ok(h.body.down.includes('processes'), JSON.stringify(h.body.down));
  assert.equal(h.body.processes.missing, ['worker']);
  assert.is(h.body.processes.gone, 1);
  assert.match(h.body.processes.error!, /no live worker/);
});

test('the worker started again is live in its place: cluster exits 0, nothing gone, /metrics and /health back', async () => {
  start('worker');
  const back = await waitFor(async () => {
    const r = await cluster();
    return r.code === 0 ? r : undefined;
  }, 10_000, 'cluster to exit 0 again');
  const workers = back.out.processes.filter((p) => p.kind === 'worker');
  assert.equal(workers.map((p) => [p.pid, p.state]), [[procs.worker!.child.pid, 'live']], 'the new worker took the gone one\'s place');
  assert.not.match((await cli(['stats'], env)).stdout, /^gone:/m);
  const m = await waitFor(async () => {
    const t = await metrics();
    return t.value('cloudroutes_processes', { kind: 'worker', state: 'live' }) === 1 ? t : undefined;
  }, 3000, '/metrics to count the worker live');
  assert.is(m.value('cloudroutes_processes', { kind: 'worker', state: 'gone' }), 0);
  const h = await waitFor(async () => {
    const r = await health();
    return r.status === 200 ? r : undefined;
  }, 5000, '/health 200 again');
  assert.equal(h.body.processes.missing, []);
});

test('a worker whose main loop ends stops its heartbeat and stays listed gone; a sink stopped cleanly removes its entry', async () => {
  const broken = new Proc(['worker'], { ...env, CLOUDROUTES_FAILPOINTS: 'worker.receive' }).start();
  procs['broken-worker'] = broken;
  const exited = new Promise<number | null>((r) => broken.child.once('exit', (code) => r(code)));
  assert.is(await exited, 1, broken.output);
  const r = await waitFor(async () => {
    const c = await cluster();
    return c.out.processes.find((p) => p.pid === broken.child.pid && p.state === 'gone') ? c : undefined;
  }, GRACE_MS + 2000, 'the broken worker shown gone');
  assert.is(r.code, 0, 'another worker is live');

  assert.is(await procs.sink!.kill('SIGTERM'), 0);
  const c = await cluster();
  assert.not.ok(c.out.processes.some((p) => p.kind === 'sink'), 'no sink entry, not even gone');
  assert.is(c.code, 3);
  assert.equal(c.out.missing, ['sink']);
});

test('cluster --help explains the states and exit statuses; Redis unreachable exits 1 with the catalogue error', async () => {
  const help = await cli(['cluster', '--help'], env);
  assert.is(help.code, 0);
  assert.match(help.stdout, 'CLOUDROUTES_HEARTBEAT_INTERVAL');
  assert.match(help.stdout, /3 when one of them has none while the zone has monitors/);
  const down = await cli(['cluster'], { ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  assert.is(down.code, 1);
  assert.match(down.stderr, /^error \[CR_REDIS_UNREACHABLE\]: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
  const other = await cluster(['--zone', 'empty']);
  assert.is(other.code, 0, 'a zone without monitors needs no processes');
  assert.equal(other.out.missing, ['control', 'broker', 'worker', 'sink']);
  assert.ok((await redis.exists(keys('default').processes)) === 1);
});

test.run();

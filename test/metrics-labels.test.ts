/** An open /metrics tells nobody what is monitored: per-monitor series by id, names only when asked for, and capped. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { putMonitor, waitFor } from './helpers/cluster.js';
import { Proc } from './helpers/procs.js';
import { parsePrometheus, type PromText } from './helpers/prometheus.js';
import { freePort, RedisServer } from './helpers/redis-server.js';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-metrics-labels-'));
let redis: Redis;
const procs: Proc[] = [];
const NAMES = ['shop "front"\\1', 'billing api', 'db primary', 'mail relay', 'vpn gateway'];
const URL_HOST = 'internal-host.example';

test.before(async () => {
  await server.start();
  redis = server.client();
  for (const [i, name] of NAMES.entries()) {
    await putMonitor(redis, 'default', { id: `m-${i}`, name, ctype: 'http-get-statuscode', interval: 3600, data: { url: `http://${URL_HOST}:${8000 + i}/health`, codes: ['200'] } }, 3_600_000);
  }
});
test.after(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a real `cloudroutes web` with `env` and returns its /metrics text once it answers. */
async function scrapeWeb(env: Record<string, string>): Promise<{ text: string; m: PromText }> {
  const port = await freePort();
  const proc = new Proc(['web', '--port', String(port)], {
    REDIS_URL: server.url, CLOUDROUTES_STORE: `sqlite:${join(dir, `${port}.db`)}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_METRICS_LABELS: '', CLOUDROUTES_METRICS_MAX_MONITORS: '', LOG_LEVEL: 'warn', ...env,
  }, dir).start();
  procs.push(proc);
  let text = '';
  await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
    text = r?.status === 200 ? await r.text() : '';
    return /^cloudroutes_redis_up 1$/m.test(text);
  }, 10_000, `cloudroutes web on ${port} to scrape its zone\n${proc.output}`);
  return { text, m: parsePrometheus(text) };
}

test('by default /metrics has per-monitor series by id and no monitor name or URL', async () => {
  const { text, m } = await scrapeWeb({});
  for (let i = 0; i < NAMES.length; i++) assert.is(m.value('cloudroutes_monitor_status', { monitor_id: `m-${i}` }), -1);
  assert.not.ok(text.includes('monitor_name'), 'no name label');
  for (const name of ['billing api', 'db primary', 'shop', 'vpn']) assert.not.ok(text.includes(name), `"${name}" is not shown`);
  assert.not.ok(text.includes(URL_HOST), 'no URL');
  assert.is(m.value('cloudroutes_monitors_left_out'), 0);
});

test('CLOUDROUTES_METRICS_LABELS=name adds the names (a quote and a backslash round-trip), still no URL', async () => {
  const { text, m } = await scrapeWeb({ CLOUDROUTES_METRICS_LABELS: 'name' });
  for (const [i, name] of NAMES.entries()) assert.is(m.value('cloudroutes_monitor_status', { monitor_id: `m-${i}`, monitor_name: name }), -1, name);
  assert.not.ok(text.includes(URL_HOST), 'no URL');
});

test('CLOUDROUTES_METRICS_MAX_MONITORS=2 with 5 monitors: 2 monitors have series, the zone totals count all 5, 3 are left out', async () => {
  const { m } = await scrapeWeb({ CLOUDROUTES_METRICS_MAX_MONITORS: '2' });
  for (const metric of ['cloudroutes_monitor_status', 'cloudroutes_monitor_failcount']) {
    const ids = m.samples.filter((s) => s.name === metric).map((s) => s.labels.monitor_id).sort();
    assert.equal(ids, ['m-0', 'm-1'], `${metric}: the first two by id`);
  }
  assert.is(m.value('cloudroutes_monitors', { status: 'unknown' }), 5);
  assert.is(m.value('cloudroutes_monitors_left_out'), 3);
});

test('a metrics setting that means nothing stops the web process at start, naming it', async () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ CLOUDROUTES_METRICS_LABELS: 'url' }, /setting CLOUDROUTES_METRICS_LABELS="url" is invalid: expected id \(monitors by id only\) or name \(their names too\)/],
    [{ CLOUDROUTES_METRICS_MAX_MONITORS: '-1' }, /setting CLOUDROUTES_METRICS_MAX_MONITORS="-1" is invalid: expected a whole number of monitors, 0 or more/],
  ];
  for (const [env, said] of bad) {
    const port = await freePort();
    const proc = new Proc(['web', '--port', String(port)], { REDIS_URL: server.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'bad.db')}`, CLOUDROUTES_METRICS_LABELS: '', CLOUDROUTES_METRICS_MAX_MONITORS: '', ...env }, dir).start();
    procs.push(proc);
    const code = await new Promise<number | null>((r) => proc.child.once('exit', (c) => r(c)));
    assert.is.not(code, 0);
    assert.match(proc.output, said);
  }
});

test.run();

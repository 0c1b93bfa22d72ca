/**
 * Two brokers in a zone (CLOUDROUTES_BROKER=host,host:portbase): the control spreads jobs over both, workers take
 * jobs from both, and a broker killed with kill -9 leaves the checks going through the other; back, it is used again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSettings } from '../src/core/config.js';
import { keys } from '../src/core/keys.js';
import { putMonitor, waitFor } from './helpers/cluster.js';
import { Proc } from './helpers/procs.js';
import { parsePrometheus } from './helpers/prometheus.js';
import { freePort, freePortRange } from './helpers/redis-server.js';
import { loseAProcess } from './helpers/losing-zone.js';
import { describeLedger, historyResults } from './helpers/slot-ledger.js';
import { useZoneFixture } from './helpers/zone-fixture.js';
import { entryResults } from '../src/core/history-entry.js';

const zone = 'twobrokers';
const fx = useZoneFixture(test, 'brokers');

test('CLOUDROUTES_BROKER lists brokers with their own port bases; a bad or repeated entry is refused naming it', () => {
  const s = loadSettings({ CLOUDROUTES_BROKER: 'b1, b2:6555,[fd00::1]:7555', CLOUDROUTES_BROKER_PORT_BASE: '5000' });
  assert.equal(s.brokers, [
    { host: 'b1', ports: { jobsIn: 5000, workers: 5001 } },
    { host: 'b2', ports: { jobsIn: 6555, workers: 6556 } },
    { host: '[fd00::1]', ports: { jobsIn: 7555, workers: 7556 } },
  ]);
  assert.throws(() => loadSettings({ CLOUDROUTES_BROKER: 'b1,b1' }), /b1:5555 is listed twice/);
  assert.throws(() => loadSettings({ CLOUDROUTES_BROKER: 'b1:x' }), /"b1:x" is not one/);
});

test('kill -9 of one of two brokers: checks go on through the other within an interval, and it is used again once back', async () => {
  const [a, b] = [await freePortRange(2), await freePortRange(2)];
  const { redis, procs, dir } = fx;
  const common = { REDIS_URL: fx.server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_DATA_DIR: dir, CLOUDROUTES_HEARTBEAT_INTERVAL: '1s' };
  const metricsPorts = new Map<Proc, number>();
  const broker = async (base: number) => {
    const metricsPort = await freePort();
    const p = new Proc(['broker'], { ...common, CLOUDROUTES_BROKER_PORT_BASE: String(base), CLOUDROUTES_METRICS_PORT: String(metricsPort) }, dir).start();
    procs.push(p);
    metricsPorts.set(p, metricsPort);
    return p;
  };
  /** Jobs a broker process has dispatched since it started, from its own /metrics. */
  const dispatched = async (p: Proc) => {
    const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${metricsPorts.get(p)}/metrics`)).text());
    return m.value('cloudroutes_counter_total', { process: 'broker', counter: 'jobs_dispatched' }) ?? 0;
  };
  const brokerA = await broker(a);
  const brokerB = await broker(b);
  await Promise.all([brokerA.waitFor('broker listening'), brokerB.waitFor('broker listening')]);
  const both = { ...common, CLOUDROUTES_BROKER: `127.0.0.1:${a},127.0.0.1:${b}` };
  for (const kind of ['worker', 'worker', 'sink', 'control']) {
    const p = new Proc([kind], both, dir).start();
    procs.push(p);
    await p.waitFor(`${kind} started`);
  }
  const port = fx.targetPort;
  const N = 50;
  for (let i = 0; i < N; i++) await putMonitor(redis, zone, { id: `m-${i}`, ctype: 'tcp-check', interval: 1, data: { host: '127.0.0.1', port } }, i * 20);
  await waitFor(async () => (await historyResults(redis, zone)) >= N * 3, 15_000, 'results through both brokers');
  const [fromA, fromB] = [await dispatched(brokerA), await dispatched(brokerB)];
  assert.ok(fromA > N / 2 && fromB > N / 2, `jobs spread over both brokers: ${fromA} and ${fromB}`);
  const killedAt = Date.now();
  await brokerA.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 6000));
  const history = (await redis.xrange(keys(zone).history, '-', '+')).flatMap(([, f]) => entryResults(f));
  const after = new Map<string, Set<number>>();
  for (const h of history) {
    const due = Number(h.due);
    if (due >= killedAt + 1000 && due < killedAt + 5000) after.set(h.monitorId!, (after.get(h.monitorId!) ?? new Set()).add(due));
  }
  const lostAround = new Set<string>();
  for (let i = 0; i < N; i++) {
    const dues = history.filter((h) => h.monitorId === `m-${i}` && Number(h.due) >= killedAt - 1000 && Number(h.due) < killedAt + 1000).length;
    if (dues < 2) lostAround.add(`m-${i}`);
  }
  console.log(`two brokers, one killed: ${[...after.values()].filter((s) => s.size >= 4).length} of ${N} monitors checked at every slot from 1 s after the kill; ${lostAround.size} lost a slot around it`);
  assert.is(after.size, N, 'every monitor checked after the kill');
  for (const [id, s] of after) assert.ok(s.size >= 4, `${id}: ${s.size} of 4 slots after the kill`);

  // Back on its ports: the control and the workers reconnect and it takes jobs again.
  const again = await broker(a);
  await again.waitFor('broker listening');
  await waitFor(async () => (await dispatched(again)) > N / 2, 10_000, 'jobs through the restarted broker');
});

test('kill -9 of one of two brokers while 300 monitors run at 1 s: every slot has one result or one counted reason', async () => {
  const ledger = await loseAProcess(fx, 'brokerkill', async (z) => void (await z.brokers[0]!.kill('SIGKILL')), { brokers: 2 });
  console.log(`one of two brokers killed: ${describeLedger(ledger)}`);
  assert.is(ledger.duplicates, 0, 'a slot recorded twice');
  assert.is(ledger.unaccounted, 0, describeLedger(ledger));
  assert.ok(ledger.recorded > ledger.slots * 0.9, describeLedger(ledger));
});

test('a broker that freezes (SIGSTOP) with jobs queued, then dies: its slots are counted control.jobs_lost_broker', async () => {
  const ledger = await loseAProcess(fx, 'brokerstop', async ({ brokers: [a] }) => {
    a!.child.kill('SIGSTOP');
    // The control's heartbeat gives it up after 3 s; the jobs it sent meanwhile are inside the frozen broker.
    await new Promise((r) => setTimeout(r, 4000));
    await a!.kill('SIGKILL');
  }, { brokers: 2 });
  console.log(`one of two brokers frozen, then killed: ${describeLedger(ledger)}`);
  assert.ok(ledger.reasons['control.jobs_lost_broker'] > 0, `the frozen broker's slots are counted lost: ${describeLedger(ledger)}`);
  assert.is(ledger.duplicates, 0, 'a slot recorded twice');
  assert.is(ledger.unaccounted, 0, describeLedger(ledger));
});

test.run();

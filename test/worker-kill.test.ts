/**
 * kill -9 of a worker with checks in flight: the broker knows which jobs it held, sends those with time left in their
 * interval to the other worker, and counts the rest lost_worker; no slot disappears without a reason, none is recorded twice.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import { Cluster, putMonitor, waitFor } from './helpers/cluster.js';
import { Proc } from './helpers/procs.js';
import { loseAProcess } from './helpers/losing-zone.js';
import { freePortRange } from './helpers/redis-server.js';
import { describeLedger } from './helpers/slot-ledger.js';
import { useZoneFixture } from './helpers/zone-fixture.js';
import { entryResults } from '../src/core/history-entry.js';

const fx = useZoneFixture(test, 'worker-kill');

/** Runs 20 monitors every 30 s and 20 every 2 s on two worker processes, then stops one with `signal`. */
async function loseAWorker(zone: string, signal: NodeJS.Signals) {
  const { redis, dir, procs } = fx;
  const checks = join(dir, 'checks');
  mkdirSync(join(checks, 'slow'), { recursive: true });
  writeFileSync(join(checks, 'slow', 'index.mjs'), "export const meta = { title: 'slow', fields: { type: 'object' } };\n" +
    'export async function check() { await new Promise((r) => setTimeout(r, 2000)); return { status: "healthy", message: "slow ok" }; }\n');
  const base = await freePortRange(2);
  const cluster = new Cluster({ redisUrl: fx.server.url, zone });
  cluster.ports = { jobsIn: base, workers: base + 1 };
  await cluster.startBroker();
  await cluster.startSink();
  const worker = async () => {
    const p = new Proc(['worker'], {
      REDIS_URL: fx.server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_CHECKS_PATH: checks, CLOUDROUTES_DATA_DIR: dir, CLOUDROUTES_BROKER: `127.0.0.1:${base}`,
    }, dir).start();
    procs.push(p);
    await p.waitFor('worker started');
    return p;
  };
  const [doomed] = [await worker(), await worker()];
  for (let i = 0; i < 20; i++) await putMonitor(redis, zone, { id: `slow-${i}`, ctype: 'slow', interval: 30, data: {} }, 1000 + i * 50);
  for (let i = 0; i < 20; i++) await putMonitor(redis, zone, { id: `fast-${i}`, ctype: 'slow', interval: 2, data: {} }, 1000 + i * 50);
  await cluster.startControl();
  const broker = cluster.broker!.counters;
  try {
    // One worker goes while the first round of checks runs on both.
    await waitFor(() => broker.get('jobs_dispatched') >= 40, 10_000, 'the first round dispatched');
    await new Promise((r) => setTimeout(r, 500));
    doomed!.child.kill(signal);
    await new Promise((r) => setTimeout(r, 12_000));
    const endAt = Date.now() - 5000;
    const history = (await redis.xrange(keys(zone).history, '-', '+')).flatMap(([, f]) => entryResults(f));
    const dues = new Map<string, number[]>();
    let twice = 0;
    for (const h of history) {
      const list = dues.get(h.monitorId!) ?? [];
      if (list.includes(Number(h.due))) twice++;
      dues.set(h.monitorId!, [...list, Number(h.due)]);
    }
    // Each 2-s monitor: the slots from its first to the last due before the end, each with a result or a counted reason.
    let missing = 0;
    for (let i = 0; i < 20; i++) {
      const d = (dues.get(`fast-${i}`) ?? []).filter((x) => x < endAt).sort((a, b) => a - b);
      if (d.length) missing += (d.at(-1)! - d[0]!) / 2000 + 1 - d.length;
    }
    const slowRecorded = [...dues.keys()].filter((id) => id.startsWith('slow-')).length;
    const counted = { rerun: broker.get('jobs_rerun'), lost: broker.get('jobs_lost_worker'), expired: broker.get('jobs_expired'), missed: cluster.control!.counters.get('missed_checks') };
    console.log(`worker ${signal}: ${slowRecorded} of 20 slow monitors recorded their slot; ${missing} fast slots without a result; counted ${JSON.stringify(counted)}; ${twice} recorded twice`);
    return { slowRecorded, missing, counted, twice };
  } finally {
    await cluster.stop();
    await doomed!.kill('SIGKILL');
  }
}

test('kill -9 of one of two workers: the jobs it held run again on the other, none is lost or recorded twice', async () => {
  const r = await loseAWorker('wkill', 'SIGKILL');
  assert.is(r.slowRecorded, 20, "every 30-s monitor has its first slot: the killed worker's ones ran again");
  assert.ok(r.counted.rerun > 0, 'the killed worker held jobs that ran again');
  assert.is(r.twice, 0);
  assert.ok(r.missing <= r.counted.lost + r.counted.expired + r.counted.missed, `${r.missing} slots without a result, ${JSON.stringify(r.counted)} counted`);
});

test('a worker that freezes (SIGSTOP): after 5 s of silence its held jobs run again if their interval allows, else are counted lost_worker', async () => {
  const r = await loseAWorker('wstop', 'SIGSTOP');
  assert.is(r.slowRecorded, 20, 'the 30-s monitors it held ran again on the other worker');
  assert.ok(r.counted.lost > 0, 'the 2-s jobs it held were counted lost_worker');
  assert.is(r.twice, 0);
  assert.ok(r.missing <= r.counted.lost + r.counted.expired + r.counted.missed, `${r.missing} slots without a result, ${JSON.stringify(r.counted)} counted`);
});

test('kill -9 of one of two workers while 300 monitors run at 1 s: every slot has one result or one counted reason', async () => {
  const ledger = await loseAProcess(fx, 'wkill300', async (z) => void (await z.workers[0]!.kill('SIGKILL')));
  console.log(`one of two workers killed: ${describeLedger(ledger)}`);
  assert.is(ledger.duplicates, 0, 'a slot recorded twice');
  assert.is(ledger.unaccounted, 0, describeLedger(ledger));
  assert.ok(ledger.recorded > ledger.slots * 0.9, describeLedger(ledger));
});

test.run();

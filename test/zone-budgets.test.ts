/**
 * Budgets hold across zones: two zones (each its own Redis, broker, control, worker, sink and bridge) share one store
 * of record, a SQLite file or RethinkDB (the wire-protocol test server); monitors are checked from both against a
 * service that stays down. Read back as an operator does, with `cloudroutes audit --json` against the shared store.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keys } from '../src/core/keys.js';
import type { EventRecord } from '../src/core/types.js';
import { waitFor } from './helpers/cluster.js';
import { cli } from './helpers/procs.js';
import { useZones } from './helpers/zones.js';
import { startRethinkTestServer, type RethinkTestServer } from './rethinkdb-server/index.js';

// The service the monitors watch: down for the whole file.
const http = createServer((_req, res) => {
  res.statusCode = 500;
  res.end('down');
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
http.unref();
const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
const zones = ['a', 'b'] as const;
type Zone = (typeof zones)[number];

function budgetsAcrossZones(store: 'sqlite' | 'rethinkdb'): void {
  const test = suite(`budgets across zones, store of record on ${store}`);
  const dir = mkdtempSync(join(tmpdir(), `cr-zone-budgets-${store}-`));
  let storeUrl = `sqlite:${join(dir, 'shared.db')}`;
  let rdb: RethinkTestServer | undefined;
  test.before(async () => {
    if (store !== 'rethinkdb') return;
    rdb = await startRethinkTestServer({ user: 'admin', password: 'secret' });
    storeUrl = `rethinkdb://admin:secret@127.0.0.1:${rdb.port}/cr_zone_budgets`;
    const init = await cli(['store', 'init'], { CLOUDROUTES_STORE: storeUrl, CLOUDROUTES_DATA_DIR: dir, LOG_LEVEL: 'silent' });
    assert.is(init.code, 0, init.stderr);
  });
  const { redis, envs } = useZones(test, zones, (zone) => ({
    CLOUDROUTES_STORE: storeUrl, CLOUDROUTES_DATA_DIR: join(dir, `data-${zone}`), CLOUDROUTES_SECRET_KEY: 'cd'.repeat(32), CLOUDROUTES_ALLOW_COMMANDS: '1',
  }));
  test.after(async () => {
    await rdb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (zone: Zone, ...args: string[]) => {
    const r = await cli(args, { ...envs[zone], LOG_LEVEL: 'silent' });
    assert.is(r.code, 0, `cloudroutes ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  const audit = async (...args: string[]) => (JSON.parse(await run('a', 'audit', '--json', ...args)) as { entries: EventRecord[] }).entries;
  const lines = (file: string) => { try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean); } catch { return []; } };
  const failedIn = async (zone: Zone, monitorId: string) => Number((await redis[zone].hget(keys(zone).state(monitorId), 'failcount')) ?? 0);
  const shape = (entries: EventRecord[]) => JSON.stringify(entries.map((d) => [d.zone, d.monitorId, d.outcome, d.reason ?? '']));

  /** Waits until each zone has failed `more` more times for each monitor (every zone has decided past the budget). */
  async function failMore(monitors: string[], more: number): Promise<void> {
    const before = await Promise.all(zones.flatMap((z) => monitors.map((m) => failedIn(z, m))));
    await waitFor(async () => (await Promise.all(zones.flatMap((z) => monitors.map((m) => failedIn(z, m))))).every((n, i) => n >= before[i]! + more),
      15_000, `${more} more failed results of each monitor in each zone`);
  }

  test('a fix with a budget of 2 per 10m, its monitor failing in zones a and b: two runs across both zones, the others held', async () => {
    const marks = join(dir, 'restarts');
    const fix = await run('a', 'reaction', 'add', '--name', 'restart-app', '--rtype', 'execute-shell-command', '--max-runs', '2', '--per', '10m',
      '--verify-for', '0', '--data', JSON.stringify({ command: `echo run >> ${marks}` }));
    const monitor = await run('a', 'monitor', 'add', '--name', 'app', '--ctype', 'http-get-statuscode', '--interval', '1s', '--zones', 'a,b',
      '--data', JSON.stringify({ url: `${base}/`, codes: ['200'] }), '--reactions', fix);

    // Each zone comes to see the budget spent: by its own runs in its Redis, or by the store counting the other zone's.
    const heldIn = async () => new Set((await audit('--reaction', fix, '--decision', 'held')).map((d) => d.zone));
    await waitFor(async () => (await heldIn()).size === 2, 30_000, 'a held decision from each zone');
    await failMore([monitor], 4);

    const decisions = await audit('--reaction', fix);
    assert.equal([...new Set(decisions.map((d) => d.zone))].sort(), ['a', 'b'], `decisions from both zones, each with its zone: ${shape(decisions)}`);
    const ran = decisions.filter((d) => d.outcome === 'ran');
    assert.is(ran.length, 2, `two runs across both zones: ${shape(decisions)}`);
    assert.is(lines(marks).length, 2, `the command ran twice in all: ${shape(decisions)}`);
    const others = decisions.filter((d) => d.outcome !== 'ran' && d.outcome !== 'escalated');
    assert.ok(others.length >= 2, shape(decisions));
    for (const d of others) {
      const ok = (d.outcome === 'held' && d.reason === 'budget') || (d.outcome === 'skipped' && d.reason === 'other-zone');
      assert.ok(ok, `held: budget or skipped: other-zone, not ${d.outcome} ${d.reason}: ${shape(decisions)}`);
      assert.match(d.message, d.reason === 'budget' ? 'budget of 2 per 10m for this monitor is spent' : 'another zone ran it');
    }
    // A budget spent is told once per zone and episode (no other rung here: the escalation alone is recorded).
    const escalated = decisions.filter((d) => d.outcome === 'escalated');
    assert.ok(escalated.length <= 2 && new Set(escalated.map((d) => d.zone)).size === escalated.length, shape(decisions));
    for (const zone of zones) {
      assert.is(decisions.filter((d) => d.zone === zone && d.outcome === 'held').length, 1, `zone ${zone}: held recorded once for the episode: ${shape(decisions)}`);
    }
    assert.ok(decisions.every((d) => d.monitorId === monitor));
  });

  test('a target set to 1 per 1h, two monitors failing in zones a and b: one run across both zones, the others held by the target', async () => {
    assert.is(await run('b', 'target', 'set', 'web-z', '--max-runs', '1', '--per', '1h'), 'target web-z: 1 per 1h');
    for (const zone of zones) {
      await waitFor(async () => (await redis[zone].hget(keys(zone).targets, 'web-z')) === '1 3600000', 5000, `the bridge carries the budget to zone ${zone}'s Redis`);
    }
    const marks = join(dir, 'reboots-web-z');
    const reboot = await run('a', 'reaction', 'add', '--name', 'reboot-web-z', '--rtype', 'execute-shell-command', '--target', 'web-z',
      '--verify-for', '0', '--data', JSON.stringify({ command: `echo run >> ${marks}` }));
    const monitors: string[] = [];
    for (let i = 0; i < 2; i++) {
      monitors.push(await run('a', 'monitor', 'add', '--name', `web-z port ${i}`, '--ctype', 'http-get-statuscode', '--interval', '1s', '--zones', 'a,b',
        '--data', JSON.stringify({ url: `${base}/web-z/${i}`, codes: ['200'] }), '--reactions', reboot));
    }
    const decidedPairs = async () => new Set((await audit('--reaction', reboot)).map((d) => `${d.zone} ${d.monitorId}`)).size;
    await waitFor(async () => (await decidedPairs()) === 4, 30_000, 'a decision for each monitor in each zone');
    await failMore(monitors, 3);

    const decisions = await audit('--reaction', reboot);
    const ran = decisions.filter((d) => d.outcome === 'ran');
    assert.is(ran.length, 1, `one run across both zones: ${shape(decisions)}`);
    assert.is(lines(marks).length, 1, `the command ran once in all: ${shape(decisions)}`);
    // Every monitor in every zone, the one that ran included (its next results), is held by the target once.
    const held = decisions.filter((d) => d.outcome !== 'ran');
    for (const zone of zones) {
      for (const m of monitors) assert.is(held.filter((d) => d.zone === zone && d.monitorId === m).length, 1, `${zone} ${m}: held once: ${shape(decisions)}`);
    }
    for (const d of held) {
      assert.equal([d.outcome, d.reason], ['held', 'target-budget'], shape(decisions));
      assert.match(d.message, 'target web-z has spent its budget of 1 per 1h');
    }
  });

  test.run();
}

budgetsAcrossZones('sqlite');
budgetsAcrossZones('rethinkdb');

/** Two zones (two Redis servers, each with its own control, broker, worker, sink and bridge) sharing one store. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keys } from '../src/core/keys.js';
import { waitFor } from './helpers/cluster.js';
import { cli } from './helpers/procs.js';
import { useZones } from './helpers/zones.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cr-zones-'));
const zones = ['east', 'west'] as const;
const { redis, envs } = useZones(test, zones, () => ({
  CLOUDROUTES_STORE: `sqlite:${join(dir, 'shared.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
  CLOUDROUTES_CHECKS_PATH: join(FIXTURES, 'checks'), CLOUDROUTES_ACTIONS_PATH: join(FIXTURES, 'actions'),
}));
const runs = join(dir, 'runs.jsonl');

test.after(() => rmSync(dir, { recursive: true, force: true }));

const add = async (...args: string[]) => {
  const r = await cli(args, { ...envs.east, LOG_LEVEL: 'silent' });
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim();
};
const state = (zone: (typeof zones)[number], id: string) => redis[zone].hgetall(keys(zone).state(id));
const setZone = (zone: string, status: string) => writeFileSync(join(dir, zone), status);
const ran = () => { try { return readFileSync(runs, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reaction: { id: string }; zone: string }); } catch { return []; } };

test('quorum 2: one zone seeing a failure does not fail the monitor; two do, and each reaction runs once across zones', async () => {
  const freq = await add('reaction', 'add', '--name', 'restart', '--rtype', 'records', '--frequency', '10m', '--data', JSON.stringify({ file: runs }));
  const once = await add('reaction', 'add', '--name', 'notify', '--rtype', 'records', '--once', '--data', JSON.stringify({ file: runs }));
  const id = await add('monitor', 'add', '--name', 'api', '--ctype', 'zone-flag', '--interval', '1s', '--zones', 'east,west', '--quorum', '2',
    '--data', JSON.stringify({ dir }), '--reactions', `${freq},${once}`);
  await waitFor(async () => (await state('east', id)).status === 'healthy' && (await state('west', id)).status === 'healthy', 6000, 'healthy in both zones');

  setZone('east', 'failed');
  await waitFor(async () => (await state('east', id)).zoneStatus === 'failed', 4000, "east's own view failed");
  await new Promise((r) => setTimeout(r, 3000));
  for (const zone of zones) assert.is((await state(zone, id)).status, 'healthy', `${zone}: one zone of two is not a quorum`);
  assert.equal(ran(), [], 'no reaction for a failure only one zone sees');
  assert.ok((await redis.west.hget(keys('west').views(id), 'east'))?.startsWith('failed|'), "west knows east's view");

  setZone('west', 'failed');
  await waitFor(async () => (await state('east', id)).status === 'failed' && (await state('west', id)).status === 'failed', 8000, 'failed in both zones');
  await waitFor(() => ran().length >= 2, 4000, 'reactions ran');
  await new Promise((r) => setTimeout(r, 4000));
  const runsNow = ran();
  assert.is(runsNow.filter((r) => r.reaction.id === freq).length, 1, 'frequency 10m: once across both zones');
  assert.is(runsNow.filter((r) => r.reaction.id === once).length, 1, '--once: once across both zones');

  const show = await cli(['monitor', 'show', id, '--json'], { ...envs.west, LOG_LEVEL: 'silent' });
  const shown = JSON.parse(show.stdout) as { zones: string[]; zoneViews: Record<string, { status: string }> };
  assert.equal(shown.zones, ['east', 'west'], 'the configured zones');
  assert.equal(Object.keys(shown.zoneViews).sort(), ['east', 'west'], "monitor show lists each zone's own view");
  assert.is(shown.zoneViews.east!.status, 'failed');
});

test.run();

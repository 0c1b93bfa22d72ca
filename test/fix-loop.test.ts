/**
 * The closed loop of fixes with the Procfile processes as real OS processes: a fix is verified (fixed or
 * not-fixed), a fix that does not fix opens its breaker and escalates to a person once, the breaker closes after the
 * monitor has been healthy long enough; a fix that fixes is known fixed within seconds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventRecord } from '../src/core/types.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-loop-'));
const redisServer = new RedisServer();
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
let http: Server;
let base = '';
/** Paths that answer 200 (the others 500), and a marker file that makes /fixable answer 200 once it exists. */
const up = new Set<string>();
const marker = join(dir, 'fixed');
const hooks: { path: string; body: Record<string, unknown> }[] = [];

test.before(async () => {
  await redisServer.start();
  http = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        hooks.push({ path: req.url!, body: JSON.parse(body) as Record<string, unknown> });
        res.end('ok');
      });
      return;
    }
    const ok = up.has(req.url!) || (req.url === '/fixable' && existsSync(marker));
    res.statusCode = ok ? 200 : 500;
    res.end(ok ? 'up' : 'down');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'ef'.repeat(32), CLOUDROUTES_ALLOW_COMMANDS: '1',
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
  await Promise.all(procs.map((p) => p.waitFor(`"${p.args[0]} ${p.args[0] === 'broker' ? 'listening' : 'started'}"`)));
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  http.close();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = async (...args: string[]) => {
  const r = await cli(args, { ...env, LOG_LEVEL: 'silent' });
  assert.is(r.code, 0, `cloudroutes ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
};
const audit = async (...args: string[]) => (JSON.parse(await run('audit', '--json', ...args)) as { entries: EventRecord[] }).entries;
const outcomes = (entries: EventRecord[]) => entries.map((e) => e.outcome).reverse();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a fix that does not fix: not-fixed twice, the breaker opens, one escalation with its reason, no more runs; healthy long enough and it closes', async () => {
  const page = await run('reaction', 'add', '--name', 'page-ops', '--rtype', 'webhook', '--call-on', 'escalated',
    '--data', JSON.stringify({ url: `${base}/escalated` }));
  const fix = await run('reaction', 'add', '--name', 'restart-app', '--rtype', 'execute-shell-command', '--max-runs', '20', '--per', '1h',
    '--verify-every', '1s', '--verify-for', '3s', '--breaker', '2', '--breaker-reset', '3s', '--data', JSON.stringify({ command: 'true' }));
  const monitor = await run('monitor', 'add', '--name', 'app', '--ctype', 'http-get-statuscode', '--interval', '2s',
    '--data', JSON.stringify({ url: `${base}/app`, codes: ['200'] }), '--reactions', `${fix},${page}`);

  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'escalated')).length === 1, 40_000, 'the fix escalated');
  await waitFor(() => hooks.some((h) => h.path === '/escalated'), 10_000, 'the page');
  // Failure goes on: no more runs of the fix, and no second page.
  await sleep(8000);
  const decisions = await audit('--reaction', fix);
  assert.equal(outcomes(decisions.filter((d) => d.outcome !== 'held')), ['ran', 'not-fixed', 'ran', 'not-fixed', 'escalated'], JSON.stringify(outcomes(decisions)));
  const notFixed = decisions.find((d) => d.outcome === 'not-fixed')!;
  assert.match(notFixed.message, 'not fixed: still failed 3s after restart-app ran');
  const escalated = decisions.find((d) => d.outcome === 'escalated')!;
  assert.match(escalated.message, `restart-app did not fix app (${monitor}) after 2 runs; last message:`);
  const held = decisions.filter((d) => d.outcome === 'held');
  // While a run was verified, the same fix was held (verifying); after the breaker opened, breaker-open: each recorded once.
  assert.equal([...held.map((d) => d.reason)].sort(), ['breaker-open', 'verifying'], JSON.stringify(held.map((d) => d.reason)));
  const pages = hooks.filter((h) => h.path === '/escalated');
  assert.is(pages.length, 1, 'paged once');
  const why = pages[0]!.body.escalation as { reason: string; reaction: { name: string }; runs: number };
  assert.equal([why.reaction.name, why.runs], ['restart-app', 2]);
  assert.match(why.reason, 'restart-app did not fix app');
  const paged = (await audit('--reaction', page));
  assert.equal(paged.map((d) => d.outcome), ['ran']);

  // The service comes back; healthy for the breaker-reset (3 s), the breaker closes.
  up.add('/app');
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'breaker-reset')).length === 1, 20_000, 'the breaker closed');
  const reset = (await audit('--reaction', fix, '--decision', 'breaker-reset'))[0]!;
  assert.match(reset.message, 'breaker closed: app healthy for');
  // It fails again: the fix runs again, in the new episode.
  up.delete('/app');
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'ran')).length === 3, 20_000, 'a third run after the breaker closed');
});

test('a fix that fixes: fixed within its verification window, healthy again within seconds on a 60 s monitor', async () => {
  const fix = await run('reaction', 'add', '--name', 'repair', '--rtype', 'execute-shell-command', '--verify-every', '2s',
    '--data', JSON.stringify({ command: `touch ${marker}` }));
  const monitor = await run('monitor', 'add', '--name', 'fixable', '--ctype', 'http-get-statuscode', '--interval', '60s',
    '--data', JSON.stringify({ url: `${base}/fixable`, codes: ['200'] }), '--reactions', fix);
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'fixed')).length === 1, 75_000, 'fixed');
  const [ran] = await audit('--reaction', fix, '--decision', 'ran');
  const [fixed] = await audit('--reaction', fix, '--decision', 'fixed');
  const seconds = Number(/healthy ([\d.]+) s after repair ran/.exec(fixed!.message)?.[1]);
  console.log(`fix to healthy: ${seconds} s (verify every 2 s, monitor interval 60 s)`);
  assert.ok(seconds > 0 && seconds < 10, fixed!.message);
  assert.ok(fixed!.at - ran!.at < 10_000, `fixed ${fixed!.at - ran!.at} ms after the run`);
  const status = JSON.parse(await run('status', '--json')) as { id: string; status: string }[];
  assert.is(status.find((s) => s.id === monitor)?.status, 'healthy');

  // The figures, once the bridge has carried the recovery to the store.
  type Shown = { stats: { incidents: { id: string; recoveredAt: number | null; recoverMs: number | null; detectMs: number | null }[]; mttrMs: Record<string, number | null> } };
  await waitFor(async () => (JSON.parse(await run('monitor', 'show', monitor, '--json')) as Shown).stats.incidents[0]?.recoveredAt != null, 10_000, 'the recovery in the store');
  const { stats: r } = JSON.parse(await run('reaction', 'show', fix, '--json')) as { stats: { successRate: number; fixed: number; timeToHealthyMs: { median: number; p90: number } } };
  assert.is(r.successRate, 1);
  assert.is(r.fixed, 1);
  assert.ok(r.timeToHealthyMs.median > 0 && r.timeToHealthyMs.median < 10_000, JSON.stringify(r));
  const { stats: m } = JSON.parse(await run('monitor', 'show', monitor, '--json')) as Shown;
  assert.is(m.incidents.length, 1, JSON.stringify(m.incidents));
  const [incident] = m.incidents;
  console.log(`incident ${incident!.id}: detected in ${incident!.detectMs} ms, recovered in ${incident!.recoverMs} ms`);
  assert.ok(incident!.recoverMs! > 0 && incident!.recoverMs! < 15_000, JSON.stringify(incident));
  assert.ok(incident!.detectMs !== null && incident!.detectMs < incident!.recoverMs!, JSON.stringify(incident));
  assert.is(m.mttrMs['7d'], incident!.recoverMs);
  const shown = await run('incident', 'show', incident!.id);
  assert.match(shown, /failed[\s\S]*ran[\s\S]*recovered[\s\S]*fixed/);
  assert.match(await run('reaction', 'show', fix), /fixes\s+100% \(1 fixed, 0 not fixed\)/);
});

test('reaction reset closes an open breaker by hand: recorded with who did it, and the fix runs again', async () => {
  const fix = await run('reaction', 'add', '--name', 'kick', '--rtype', 'execute-shell-command', '--max-runs', '20', '--per', '1h',
    '--verify-every', '1s', '--verify-for', '2s', '--breaker', '1', '--data', JSON.stringify({ command: 'true' }));
  const monitor = await run('monitor', 'add', '--name', 'stuck', '--ctype', 'http-get-statuscode', '--interval', '2s',
    '--data', JSON.stringify({ url: `${base}/stuck`, codes: ['200'] }), '--reactions', fix);
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'escalated')).length === 1, 30_000, 'the breaker opened');
  const none = JSON.parse(await run('reaction', 'reset', fix, '--monitor', 'm-other', '--json')) as { closed: string[] };
  assert.equal(none.closed, [], 'no breaker open for another monitor');
  const reset = JSON.parse(await run('reaction', 'reset', fix, '--json')) as { closed: string[] };
  assert.equal(reset.closed, [monitor]);
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'breaker-reset')).length === 1, 10_000, 'the reset in the audit');
  const [entry] = await audit('--reaction', fix, '--decision', 'breaker-reset');
  assert.match(entry!.message, 'breaker closed by hand (cli) after 1 runs');
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'ran')).length === 2, 15_000, 'the fix ran again');
});

test('a ladder of three rungs: each rung runs only after the one before it escalated, each --breaker times, and the page comes once naming the rungs', async () => {
  const loop = ['--max-runs', '20', '--per', '1h', '--verify-every', '1s', '--verify-for', '2s', '--breaker', '2'];
  const restart = await run('reaction', 'add', '--name', 'restart-svc', '--rtype', 'execute-shell-command', ...loop, '--data', JSON.stringify({ command: 'true' }));
  const reboot = await run('reaction', 'add', '--name', 'reboot-host', '--rtype', 'execute-shell-command', ...loop, '--escalates-from', restart,
    '--data', JSON.stringify({ command: 'true' }));
  const page = await run('reaction', 'add', '--name', 'page-human', '--rtype', 'webhook', '--call-on', 'escalated', '--escalates-from', reboot,
    '--data', JSON.stringify({ url: `${base}/ladder` }));
  const shown = JSON.parse(await run('reaction', 'show', reboot, '--json')) as { ladder: string[] };
  assert.equal(shown.ladder, [restart, reboot, page], 'one chain');
  assert.match(await run('reaction', 'show', page), 'ladder    restart-svc -> reboot-host -> [page-human]');

  const partial = await cli(['monitor', 'add', '--name', 'x', '--ctype', 'tcp-check', '--interval', '5s', '--data', '{"host":"127.0.0.1","port":1}', '--reactions', reboot], { ...env, LOG_LEVEL: 'silent' });
  assert.is(partial.code, 2, partial.stderr);
  assert.match(partial.stderr, `is the next rung after ${restart}, which this monitor does not use`);
  const cycle = await cli(['reaction', 'edit', restart, '--escalates-from', page], { ...env, LOG_LEVEL: 'silent' });
  assert.is(cycle.code, 2, cycle.stderr);
  assert.match(cycle.stderr, `cycle: ${restart} -> ${reboot} -> ${page} -> ${restart}`);

  await run('monitor', 'add', '--name', 'svc', '--ctype', 'http-get-statuscode', '--interval', '2s',
    '--data', JSON.stringify({ url: `${base}/svc`, codes: ['200'] }), '--reactions', `${restart},${reboot},${page}`);
  await waitFor(() => hooks.some((h) => h.path === '/ladder'), 60_000, 'the page at the end of the ladder');
  await sleep(4000);
  const steps = (await audit('--monitor', (await audit('--reaction', page))[0]!.monitorId)).reverse().filter((d) => d.outcome !== 'held');
  const seq = steps.map((d) => `${d.reactionId === restart ? 'restart' : d.reactionId === reboot ? 'reboot' : 'page'}:${d.outcome}`);
  assert.equal(seq, [
    'restart:ran', 'restart:not-fixed', 'restart:ran', 'restart:not-fixed', 'restart:escalated',
    'reboot:ran', 'reboot:not-fixed', 'reboot:ran', 'reboot:not-fixed', 'reboot:escalated', 'page:ran',
  ]);
  const pages = hooks.filter((h) => h.path === '/ladder');
  assert.is(pages.length, 1, 'paged once');
  assert.match((pages[0]!.body.escalation as { reason: string }).reason, 'reboot-host did not fix svc');
  assert.match((pages[0]!.body.escalation as { reason: string }).reason, 'rungs tried: restart-svc, reboot-host');
});

test('bad closed-loop settings are refused with exit 2, naming the field', async () => {
  const cases: [string[], RegExp][] = [
    [['--verify-every', '500ms'], /verify-every/],
    [['--verify-every', '10s', '--verify-for', '5s'], /verify-every/],
    [['--breaker', '0'], /--breaker/],
    [['--dry-run', '--rtype', 'no-dry-run-here'], /rtype|dry-run/],
  ];
  for (const [args, field] of cases) {
    const r = await cli(['reaction', 'add', '--name', 'x', '--rtype', 'execute-shell-command', ...args, '--data', '{"command":"true"}'], { ...env, LOG_LEVEL: 'silent' });
    assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, field);
  }
});

test.run();

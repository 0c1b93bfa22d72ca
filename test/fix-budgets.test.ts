/**
 * Fixes are bounded, and every decision is recorded with its reason: the Procfile processes as real OS processes, a
 * target that stays down, fixes that run a command. Read back as an operator does, with `cloudroutes audit --json`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import type { EventRecord } from '../src/core/types.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-budgets-'));
const redisServer = new RedisServer();
let redis: Redis;
const env: NodeJS.ProcessEnv = {};
const procs = new Map<string, Proc>();
const k = keys('default');
let http: Server;
let base = '';

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  // The service the monitors watch: down for the whole test.
  http = createServer((_req, res) => {
    res.statusCode = 500;
    res.end('down');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'ab'.repeat(32), CLOUDROUTES_ALLOW_COMMANDS: '1',
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.set(name, new Proc([name], env).start());
  await Promise.all([...procs].map(([name, p]) => p.waitFor(`"${name} ${name === 'broker' ? 'listening' : 'started'}"`)));
});

test.after(async () => {
  await Promise.all([...procs.values()].map((p) => p.kill()));
  redis.disconnect();
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
const counter = async (name: string) => Number((await redis.hget(k.counters, `sink.${name}`)) ?? 0);
const failedResults = async (monitorId: string) => Number((await redis.hget(k.state(monitorId), 'failcount')) ?? 0);

test('a fix with a budget of 2 per 10m runs twice while its monitor fails, across a kill -9 of the sink; then it is held, recorded once, counted every time', async () => {
  const marks = join(dir, 'restarts');
  const fix = await run('reaction', 'add', '--name', 'restart-app', '--rtype', 'execute-shell-command', '--max-runs', '2', '--per', '10m',
    '--verify-for', '0', '--data', JSON.stringify({ command: `echo run >> ${marks}` }));
  const shown = JSON.parse(await run('reaction', 'show', fix, '--json')) as { kind: string; maxRuns: number; per: number };
  assert.equal([shown.kind, shown.maxRuns, shown.per], ['fix', 2, 600], 'execute-shell-command is a fix; the budget as given');
  const monitor = await run('monitor', 'add', '--name', 'app', '--ctype', 'http-get-statuscode', '--interval', '1s',
    '--data', JSON.stringify({ url: `${base}/`, codes: ['200'] }), '--reactions', fix);

  const ran = () => audit('--reaction', fix, '--decision', 'ran');
  await waitFor(async () => (await ran()).length >= 1, 15_000, 'the first run in the audit');
  // The sink dies and comes back: the budget is in Redis and in the store, not in the process.
  await procs.get('sink')!.kill('SIGKILL');
  procs.set('sink', new Proc(['sink'], env).start());
  await procs.get('sink')!.waitFor('"sink started"');
  await waitFor(async () => (await audit('--reaction', fix, '--decision', 'held')).length >= 1, 20_000, 'the budget spent: held');
  const heldAt = await failedResults(monitor);
  await waitFor(async () => (await failedResults(monitor)) >= heldAt + 4, 10_000, 'four more failed results');
  await waitFor(async () => (await counter('reactions.held_budget')) >= 4, 10_000, 'each held result counted');

  const decisions = await audit('--reaction', fix);
  const runs = decisions.filter((d) => d.outcome === 'ran');
  const held = decisions.filter((d) => d.outcome === 'held');
  assert.is(runs.length, 2, `two runs: ${JSON.stringify(decisions.map((d) => d.outcome))}`);
  assert.is(readFileSync(marks, 'utf8').trim().split('\n').length, 2, 'the command ran twice');
  assert.is(held.length, 1, 'held recorded once for the episode');
  assert.is(held[0]!.reason, 'budget');
  assert.match(held[0]!.message, 'budget of 2 per 10m for this monitor is spent');
  assert.is(held[0]!.monitorId, monitor);
  assert.is(held[0]!.episode, runs[0]!.episode, 'the same episode');
  assert.ok(typeof held[0]!.due === 'number' && held[0]!.due > runs[0]!.due!, 'the result that led to it: a later slot');

  const text = await run('audit', '--monitor', monitor);
  assert.match(text, /held\s+budget/);
});

test('five monitors of one server share its target: one reboot, four held with reason target-budget', async () => {
  const reboot = await run('reaction', 'add', '--name', 'reboot-web-1', '--rtype', 'execute-shell-command', '--target', 'web-1.example.com',
    '--data', JSON.stringify({ command: 'true' }));
  const monitors: string[] = [];
  for (let i = 0; i < 5; i++) {
    monitors.push(await run('monitor', 'add', '--name', `web-1 port ${i}`, '--ctype', 'http-get-statuscode', '--interval', '1s',
      '--data', JSON.stringify({ url: `${base}/${i}`, codes: ['200'] }), '--reactions', reboot));
  }
  const decided = async () => new Set((await audit('--reaction', reboot)).map((d) => d.monitorId)).size;
  await waitFor(async () => (await decided()) === 5, 20_000, 'a decision for each of the five monitors');
  const decisions = await audit('--reaction', reboot);
  const ran = decisions.filter((d) => d.outcome === 'ran');
  assert.is(ran.length, 1, JSON.stringify(decisions.map((d) => [d.monitorId, d.outcome, d.reason])));
  const others = monitors.filter((m) => m !== ran[0]!.monitorId);
  for (const m of others) {
    const held = decisions.filter((d) => d.monitorId === m);
    assert.equal(held.map((d) => [d.outcome, d.reason]), [['held', 'target-budget']], `${m}: held once, recorded once`);
    assert.match(held[0]!.message, 'target web-1.example.com has spent its budget of 1 per 1h');
  }
});

test('a target given 2 per 1h with "cloudroutes target set": five monitors failing, two runs, the others held naming "2 per 1h"', async () => {
  assert.is(await run('target', 'set', 'web-2', '--max-runs', '2', '--per', '1h'), 'target web-2: 2 per 1h');
  await waitFor(async () => (await redis.hget(k.targets, 'web-2')) === '2 3600000', 5000, "the bridge carries the budget to the zone's Redis");
  const marks = join(dir, 'reboots-web-2');
  const reboot = await run('reaction', 'add', '--name', 'reboot-web-2', '--rtype', 'execute-shell-command', '--target', 'web-2',
    '--data', JSON.stringify({ command: `echo run >> ${marks}` }));
  const monitors: string[] = [];
  for (let i = 0; i < 5; i++) {
    monitors.push(await run('monitor', 'add', '--name', `web-2 port ${i}`, '--ctype', 'http-get-statuscode', '--interval', '1s',
      '--data', JSON.stringify({ url: `${base}/web-2/${i}`, codes: ['200'] }), '--reactions', reboot));
  }
  const decided = async () => new Set((await audit('--reaction', reboot)).map((d) => d.monitorId)).size;
  await waitFor(async () => (await decided()) === 5, 20_000, 'a decision for each of the five monitors');
  // Every monitor fails a few more times: the budget holds each time, not only the first.
  const failcounts = await Promise.all(monitors.map(failedResults));
  await waitFor(async () => (await Promise.all(monitors.map(failedResults))).every((n, i) => n >= failcounts[i]! + 3), 15_000, 'three more failed results each');

  const decisions = await audit('--reaction', reboot);
  const ran = decisions.filter((d) => d.outcome === 'ran');
  assert.is(ran.length, 2, JSON.stringify(decisions.map((d) => [d.monitorId, d.outcome, d.reason])));
  assert.is(readFileSync(marks, 'utf8').trim().split('\n').length, 2, 'the command ran twice');
  const ranOn = new Set(ran.map((d) => d.monitorId));
  const held = decisions.filter((d) => d.outcome === 'held');
  // The two that ran are being verified (held: verifying); every other one is held by the target's budget alone.
  for (const m of monitors.filter((id) => !ranOn.has(id))) {
    assert.equal(held.filter((h) => h.monitorId === m).map((h) => h.reason), ['target-budget'], `${m}: held by the target, recorded once`);
  }
  for (const h of held.filter((d) => d.reason === 'target-budget')) assert.match(h.message, 'target web-2 has spent its budget of 2 per 1h');
  assert.ok(held.every((h) => h.reason === 'target-budget' || (h.reason === 'verifying' && ranOn.has(h.monitorId))), JSON.stringify(held.map((h) => [h.monitorId, h.reason])));

  const shown = JSON.parse(await run('target', 'show', 'web-2', '--json')) as { maxRuns: number; per: number; reactions: { id: string }[]; runs: { monitorId: string; reactionId: string }[] };
  assert.equal([shown.maxRuns, shown.per, shown.reactions.map((r) => r.id)], [2, 3600, [reboot]]);
  assert.equal(shown.runs.map((r) => r.monitorId).sort(), [...ranOn].sort(), "the two runs in the zone's Redis");
  assert.ok(shown.runs.every((r) => r.reactionId === reboot));
  assert.match(await run('target', 'show', 'web-2'), '2 of 2 inside the window in zone default: spent');
  assert.match(await run('target', 'list'), new RegExp(`web-2\\s+2 per 1h\\s+${reboot}`));
  assert.match(await run('target', 'list'), /web-1\.example\.com\s+1 per 1h \(default\)/);
  const removed = await run('target', 'rm', 'web-2');
  assert.match(removed, `removed web-2\nstill named by ${reboot}: they now share the default budget of 1 per 1h`);
  await waitFor(async () => (await redis.hexists(k.targets, 'web-2')) === 0, 5000, 'the budget removed from Redis');
});

test("a failed run's decision names the error, and a notify has no budget by default", async () => {
  const closed = await freePortRange(1);
  const page = await run('reaction', 'add', '--name', 'page', '--rtype', 'webhook', '--data', JSON.stringify({ url: `http://127.0.0.1:${closed}/hook` }));
  const shown = JSON.parse(await run('reaction', 'show', page, '--json')) as Record<string, unknown>;
  assert.equal([shown.kind, shown.maxRuns], ['notify', undefined]);
  await run('monitor', 'add', '--name', 'api', '--ctype', 'http-get-statuscode', '--interval', '1s',
    '--data', JSON.stringify({ url: `${base}/api`, codes: ['200'] }), '--reactions', page);
  await waitFor(async () => (await audit('--reaction', page, '--decision', 'failed')).length >= 3, 15_000, 'three failed runs: no budget holds a notify');
  const [failed] = await audit('--reaction', page, '--decision', 'failed');
  assert.match(failed!.message, `POST http://127.0.0.1:${closed}/hook: ECONNREFUSED`);
});

test('a dry-run webhook sends nothing; the audit shows the exact request it would have sent, its secret header masked', async () => {
  const received: string[] = [];
  const receiver = createServer((req, res) => {
    received.push(req.url!);
    res.end('ok');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  try {
    const hook = await run('reaction', 'add', '--name', 'try-hook', '--rtype', 'webhook', '--dry-run',
      '--data', JSON.stringify({ url, headers: { authorization: 'Bearer s3cr3t-t0ken' } }));
    await run('monitor', 'add', '--name', 'dry', '--ctype', 'http-get-statuscode', '--interval', '1s',
      '--data', JSON.stringify({ url: `${base}/dry`, codes: ['200'] }), '--reactions', hook);
    await waitFor(async () => (await audit('--reaction', hook, '--decision', 'dry-run')).length >= 2, 15_000, 'two dry runs in the audit');
    const [dry] = await audit('--reaction', hook, '--decision', 'dry-run');
    assert.match(dry!.message, `POST ${url}`);
    assert.match(dry!.message, '"status":"failed"');
    assert.not.match(dry!.message, 's3cr3t-t0ken');
    assert.match(dry!.message, '***');
    assert.equal(received, [], 'the receiver got nothing');
  } finally {
    receiver.close();
  }
});

test('bad budgets and targets are refused with exit 2, naming the field', async () => {
  const cases: [string[], RegExp][] = [
    [['--max-runs', '0'], /--max-runs/],
    [['--max-runs', '2', '--per', '500ms'], /per/],
    [['--target', 'web 1; rm -rf /'], /target/],
  ];
  for (const [args, field] of cases) {
    const r = await cli(['reaction', 'add', '--name', 'x', '--rtype', 'execute-shell-command', ...args, '--data', '{"command":"true"}'], { ...env, LOG_LEVEL: 'silent' });
    assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, field);
  }
  const targets: [string[], RegExp][] = [
    [['web-3', '--max-runs', '0', '--per', '1h'], /--max-runs="0"/],
    [['web-3', '--max-runs', '2', '--per', '500ms'], /per="500ms" is invalid: a duration from 1s/],
    [['web 3; reboot', '--max-runs', '2', '--per', '1h'], /target="web 3; reboot" is invalid: a plain name/],
    [['web-3', '--max-runs', '2'], /--per/],
  ];
  for (const [args, field] of targets) {
    const r = await cli(['target', 'set', ...args], { ...env, LOG_LEVEL: 'silent' });
    assert.is(r.code, 2, `target set ${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, field);
  }
  const unknown = await cli(['target', 'rm', 'web-3'], { ...env, LOG_LEVEL: 'silent' });
  assert.match(unknown.stderr, 'CR_NO_SUCH_TARGET');
  const bad = await cli(['audit', '--decision', 'maybe'], { ...env, LOG_LEVEL: 'silent' });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /decision/);
});

test.run();

/** Modules that run commands run only on a worker or sink started with --allow-commands; elsewhere they are refused before they start. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloudRoutesError } from '../src/core/errors.js';
import { keys } from '../src/core/keys.js';
import { checkLoader } from '../src/core/plugins.js';
import { fieldsToObject } from '../src/core/redis.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { closedPort } from './helpers/peers.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const WORKER_REFUSAL = 'commands are not allowed on this worker: start it with --allow-commands';
const SINK_REFUSAL = 'commands are not allowed on this sink: start it with --allow-commands';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-allow-commands-'));
const CHECKS = join(dir, 'checks');
const ACTIONS = join(dir, 'actions');
let redis: Redis;
let refusing: Cluster;
let allowing: Cluster;
let listener: Server;
let openPort = 0;
let downPort = 0;

/** An extra module in `root`/`name` that declares meta.runsCommands and, when run, writes data.file (as a command would). */
function writesFile(root: string, name: string, fn: 'check' | 'react', runsCommands: unknown = true): void {
  mkdirSync(join(root, name), { recursive: true });
  const result = fn === 'check' ? "({ status: 'healthy', message: 'wrote ' + job.data.file })" : "'ran'";
  const data = fn === 'check' ? 'job.data' : 'job.reaction.data';
  writeFileSync(join(root, name, 'index.mjs'), `import { writeFileSync } from 'node:fs';
export const meta = { title: 'Writes a file', runsCommands: ${JSON.stringify(runsCommands)}, fields: { type: 'object', properties: { file: { type: 'string' } } } };
export async function ${fn}(job) { writeFileSync(${data}.file, 'ran'); return ${result}; }
`);
}

const file = (name: string) => join(dir, name);
const state = (zone: string, id: string) => redis.hgetall(keys(zone).state(id));
const settled = (zone: string, id: string) => waitFor(async () => ((await state(zone, id)).status ? state(zone, id) : null), 5000, `a result of ${id}`);

/** The reaction runs recorded for monitor `id` in `zone`, by reaction id (the last of each). */
async function runs(zone: string, id: string): Promise<Record<string, Record<string, string>>> {
  const events = (await redis.xrange(keys(zone).events, '-', '+')).map(([, f]) => fieldsToObject(f));
  return Object.fromEntries(events.filter((e) => e.kind === 'reaction' && e.monitorId === id).map((e) => [e.reactionId, e]));
}

const sshTo = (port: number) => ({ host: '127.0.0.1', port, user: 'nobody', password: 'not-used' });

test.before(async () => {
  await server.start();
  redis = server.client();
  writesFile(CHECKS, 'writes-file', 'check');
  writesFile(ACTIONS, 'writes-file', 'react');
  writesFile(CHECKS, 'says-maybe', 'check', 'yes');
  listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  openPort = (listener.address() as { port: number }).port;
  downPort = await closedPort();
  const opts = { redisUrl: server.url, checksPath: [CHECKS], actionsPath: [ACTIONS], reactionTimeoutMs: 5000 };
  refusing = await new Cluster({ ...opts, zone: 'refuse' }).start();
  allowing = await new Cluster({ ...opts, zone: 'allow', allowCommands: true }).start();
});

test.after(async () => {
  await refusing?.stop();
  await allowing?.stop();
  listener?.close();
  redis?.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a worker without --allow-commands gives unknown for execute-shell-command (local or over SSH) and runs nothing; its other monitors still run', async () => {
  await putMonitor(redis, 'refuse', { id: 'm-shell', ctype: 'execute-shell-command', data: { command: `touch ${file('check-shell')}` } });
  await putMonitor(redis, 'refuse', { id: 'm-argv-ssh', ctype: 'execute-shell-command', data: { argv: ['touch', file('check-ssh')], ssh: sshTo(downPort) } });
  await putMonitor(redis, 'refuse', { id: 'm-tcp', ctype: 'tcp-check', data: { host: '127.0.0.1', port: openPort } });
  for (const id of ['m-shell', 'm-argv-ssh']) {
    const s = await settled('refuse', id);
    assert.is(s.status, 'unknown', id);
    // Not "cannot connect": the refusal comes before the module is called.
    assert.is(s.message, WORKER_REFUSAL, id);
  }
  assert.is((await settled('refuse', 'm-tcp')).status, 'healthy');
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(Number((await state('refuse', 'm-shell')).lastCheck) > Date.now() - 1500, 'still checked (and refused) every interval');
  assert.not.ok(existsSync(file('check-shell')), 'the command did not run');
  assert.not.ok(existsSync(file('check-ssh')));
});

test('an extra check module declaring meta.runsCommands is refused the same way; on a worker with --allow-commands it runs', async () => {
  await putMonitor(redis, 'refuse', { id: 'm-extra', ctype: 'writes-file', data: { file: file('extra-refused') } });
  await putMonitor(redis, 'allow', { id: 'm-extra', ctype: 'writes-file', data: { file: file('extra-allowed') } });
  const refused = await settled('refuse', 'm-extra');
  assert.equal([refused.status, refused.message], ['unknown', WORKER_REFUSAL]);
  const allowed = await settled('allow', 'm-extra');
  assert.equal([allowed.status, allowed.message], ['healthy', `wrote ${file('extra-allowed')}`]);
  assert.ok(existsSync(file('extra-allowed')));
  assert.not.ok(existsSync(file('extra-refused')));
});

test('a worker with --allow-commands runs execute-shell-command', async () => {
  await putMonitor(redis, 'allow', { id: 'm-shell', ctype: 'execute-shell-command', data: { command: `touch ${file('check-allowed')}` } });
  const s = await settled('allow', 'm-shell');
  assert.is(s.status, 'healthy', s.message);
  assert.ok(existsSync(file('check-allowed')));
});

test('a sink without --allow-commands records execute-shell-command, ssh-command and extra command reactions as failed with the reason, running none; others run', async () => {
  const reactions = {
    'r-shell': { rtype: 'execute-shell-command', data: { command: `touch ${file('react-shell')}` } },
    'r-ssh': { rtype: 'ssh-command', data: { ssh: sshTo(downPort), argv: ['touch', file('react-ssh')] } },
    'r-extra': { rtype: 'writes-file', data: { file: file('react-extra') } },
    'r-log': { rtype: 'log', data: {} },
  };
  for (const zone of ['refuse', 'allow']) {
    for (const [id, r] of Object.entries(reactions)) await putReaction(redis, zone, { id, ...r, data: { ...r.data, ...('file' in r.data ? { file: `${r.data.file}-${zone}` } : {}) } });
  }
  await putMonitor(redis, 'refuse', { id: 'm-down', ctype: 'tcp-check', data: { host: '127.0.0.1', port: downPort }, reactions: Object.keys(reactions) });
  const by = await waitFor(async () => {
    const r = await runs('refuse', 'm-down');
    return Object.keys(r).length === 4 ? r : null;
  }, 5000, 'four reaction runs recorded');
  for (const id of ['r-shell', 'r-ssh', 'r-extra']) assert.equal([by[id]!.outcome, by[id]!.message], ['failed', SINK_REFUSAL], id);
  assert.is(by['r-log']!.outcome, 'ran');
  assert.is((await state('refuse', 'm-down')).status, 'failed');
  await new Promise((r) => setTimeout(r, 500));
  for (const name of ['react-shell', 'react-ssh', 'react-extra-refuse']) assert.not.ok(existsSync(file(name)), `${name} did not run`);
});

test('a sink with --allow-commands runs them', async () => {
  await putMonitor(redis, 'allow', { id: 'm-down', ctype: 'tcp-check', data: { host: '127.0.0.1', port: downPort }, reactions: ['r-shell', 'r-extra'] });
  const by = await waitFor(async () => {
    const r = await runs('allow', 'm-down');
    return r['r-shell'] && r['r-extra'] ? r : null;
  }, 5000, 'reaction runs recorded');
  assert.equal([by['r-shell']!.outcome, by['r-extra']!.outcome], ['ran', 'ran'], JSON.stringify(by));
  assert.ok(existsSync(file('react-shell')));
  assert.ok(existsSync(file('react-extra-allow')));
});

test('meta.runsCommands must be true or false: anything else makes the module broken', async () => {
  const err = await checkLoader([CHECKS]).load('says-maybe').catch((e: unknown) => e);
  assert.instance(err, CloudRoutesError);
  assert.is((err as CloudRoutesError).code, 'CR_MODULE_INVALID');
  assert.match((err as CloudRoutesError).message, 'meta.runsCommands, when set, must be true or false');
});

test('a real worker process: refused without the flag, runs with --allow-commands or CLOUDROUTES_ALLOW_COMMANDS=1; another value stops it at start', async () => {
  const base = await freePortRange(4);
  const zone = 'proc';
  const cluster = new Cluster({ redisUrl: server.url, zone });
  cluster.ports = { jobsIn: base, workers: base + 1 };
  await cluster.startBroker();
  await cluster.startSink();
  await cluster.startControl();
  const env = { REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_BROKER_PORT_BASE: String(base), CLOUDROUTES_DATA_DIR: dir, CLOUDROUTES_ALLOW_COMMANDS: '' };
  try {
    const bad = await cli(['worker'], { ...env, CLOUDROUTES_ALLOW_COMMANDS: 'yes' });
    assert.is(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, 'setting CLOUDROUTES_ALLOW_COMMANDS="yes" is invalid: it must be 1 (run modules that run commands) or 0');

    for (const [name, args, extra, allowed] of [
      ['plain', [], {}, false],
      ['flag', ['--allow-commands'], {}, true],
      ['env', [], { CLOUDROUTES_ALLOW_COMMANDS: '1' }, true],
    ] as const) {
      const worker = new Proc(['worker', ...args], { ...env, ...extra }).start();
      try {
        await worker.waitFor(`"allowCommands":${allowed}`);
        await putMonitor(redis, zone, { id: `m-${name}`, ctype: 'execute-shell-command', data: { command: `touch ${file(`proc-${name}`)}` } });
        const s = await settled(zone, `m-${name}`);
        if (allowed) assert.is(s.status, 'healthy', `${name}: ${s.message}`);
        else assert.equal([s.status, s.message], ['unknown', WORKER_REFUSAL]);
        assert.is(existsSync(file(`proc-${name}`)), allowed, name);
        await redis.zrem(keys(zone).schedule, `m-${name}`);
      } finally {
        await worker.kill();
      }
    }
  } finally {
    await cluster.stop();
  }
});

test('cloudroutes modules says which modules run commands, and each reaction\'s kind', async () => {
  const env = { REDIS_URL: server.url, CLOUDROUTES_CHECKS_PATH: CHECKS, CLOUDROUTES_ACTIONS_PATH: ACTIONS, CLOUDROUTES_DATA_DIR: dir };
  const text = await cli(['modules'], env);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ {2}execute-shell-command +Shell command \(runs commands: needs --allow-commands\)$/m);
  assert.match(text.stdout, /^ {2}ssh-command +fix +SSH command \(runs commands: needs --allow-commands\)$/m);
  assert.match(text.stdout, /^ {2}webhook +notify +Webhook$/m);
  assert.match(text.stdout, /^ {2}tcp-check +TCP connect$/m);
  const json = await cli(['modules', '--json'], env);
  const out = JSON.parse(json.stdout) as Record<'checks' | 'reactions', { name: string; runsCommands?: boolean }[]>;
  const running = (list: { name: string; runsCommands?: boolean }[]) => list.filter((m) => m.runsCommands).map((m) => m.name);
  assert.equal(running(out.checks), ['execute-shell-command', 'writes-file']);
  assert.equal(running(out.reactions), ['execute-shell-command', 'ssh-command', 'writes-file']);
  const kinds = Object.fromEntries((out.reactions as { name: string; kind?: string }[]).map((m) => [m.name, m.kind]));
  assert.equal(
    [kinds['aws-ec2-reboot'], kinds['cloudflare-dns-failover'], kinds.saltstack, kinds['ssh-command'], kinds.http, kinds.slack, kinds.log],
    ['fix', 'fix', 'fix', 'fix', 'notify', 'notify', 'notify'],
  );
  assert.is(kinds['writes-file'], 'notify', 'a module that declares no kind is listed as notify, the default');
  assert.not.ok('kind' in out.checks[0]!, 'checks have no kind');
});

test.run();

/** TypeScript plug-ins in extra module folders: transpiled on load, checked by the same contract, in every process. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { ctx, job, silentLogger } from './helpers/peers.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';
import { refusal } from './helpers/refusal.js';

const root = mkdtempSync(join(tmpdir(), 'cr-plugins-ts-'));
const checks = join(root, 'checks');
const actions = join(root, 'actions');

function write(path: string, source: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, source.trimStart());
  return path;
}

write(join(checks, 'ts-check', 'util.ts'), `
export function double(n: number): number {
  return n * 2;
}
export function unlucky(): never {
  throw new Error('unlucky number');
}
`);
write(join(checks, 'ts-check', 'label.ts'), `export const label = (n: number): string => \`n=\${n}\`;\n`);
write(join(checks, 'ts-check', 'index.ts'), `
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from 'cloudroutes';
import { double, unlucky } from './util.js';
import { label } from './label.ts';

// A type error: transpiling drops types unchecked, so the module still loads.
const wrong: number = 'not a number';

export const meta: PluginMeta = {
  title: 'TS check',
  description: 'Doubles n.',
  fields: { type: 'object', properties: { n: { type: 'integer', description: 'a number' } }, required: ['n'], additionalProperties: false },
};

export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const n = job.data.n as number;
  if (n === 13) unlucky();
  ctx.logger.info({ n }, 'doubling');
  return { status: n < 0 ? 'failed' : 'healthy', message: label(n), metrics: { doubled: double(n) } };
}
`);
write(join(actions, 'ts-reaction', 'index.ts'), `
import { writeFile } from 'node:fs/promises';
import { render, type ReactionContext, type ReactionEvent, type ReactionOutcome } from 'cloudroutes';

interface Data { file: string; text: string }

export const meta = {
  title: 'TS reaction',
  description: 'Writes the rendered text to a file.',
  fields: {
    type: 'object' as const,
    properties: { file: { type: 'string' as const }, text: { type: 'string' as const, template: true } },
    required: ['file', 'text'],
    additionalProperties: false,
  },
};

export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionOutcome> {
  const data = event.reaction.data as unknown as Data;
  await writeFile(data.file, render(data.text, event), { signal: ctx.signal });
  return 'ran';
}
`);
write(join(checks, 'ts-broken', 'index.ts'), `
export const meta = { title: 'broken', fields: { type: 'object' } };
export async function check(job {
  return { status: 'healthy' };
}
`);
write(join(checks, 'ts-broken-sibling', 'index.ts'), `
import { x } from './util.js';
export const meta = { title: 'broken sibling', fields: { type: 'object' } };
export async function check() { return { status: 'healthy', message: x }; }
`);
write(join(checks, 'ts-broken-sibling', 'util.ts'), `
export const y = 1;
export const x: string = ;
`);
write(join(checks, 'both', 'index.ts'), `export const meta = { title: 'from index.ts', fields: { type: 'object' } };\nexport async function check() { return { status: 'healthy' }; }\n`);
write(join(checks, 'both', 'index.js'), `export const meta = { title: 'from index.js', fields: { type: 'object' } };\nexport async function check() { return { status: 'healthy' }; }\n`);
write(join(checks, 'vendored', 'index.ts'), `
import { dep } from 'dep';
export const meta = { title: 'vendored', fields: { type: 'object' } };
export async function check() { return { status: 'healthy', message: dep }; }
`);
write(join(checks, 'vendored', 'node_modules', 'dep', 'package.json'), '{"name":"dep","type":"module","main":"index.ts"}');
write(join(checks, 'vendored', 'node_modules', 'dep', 'index.ts'), `export const dep: string = 'dep';\n`);

test.after(() => rmSync(root, { recursive: true, force: true }));

test('a TypeScript check with sibling imports and a type import loads and runs; a type error does not stop it', async () => {
  const mod = await checkLoader([checks]).load('ts-check');
  assert.is(mod.meta.title, 'TS check');
  const r = await mod.check(job('ts-check', { n: 21 }), ctx());
  assert.equal(r, { status: 'healthy', message: 'n=21', metrics: { doubled: 42 } });
});

test('a TypeScript reaction runs, with a value imported from cloudroutes', async () => {
  const mod = await reactionLoader([actions]).load('ts-reaction');
  const file = join(root, 'reaction-out.txt');
  const event = {
    monitor: { id: 'm-1', name: 'site', ctype: 'ts-check' }, reaction: { id: 'r-1', name: 'note', rtype: 'ts-reaction', data: { file, text: '{{monitor.name}} is {{status}}' } },
    status: 'failed' as const, previousStatus: 'healthy' as const, failcount: 1, zone: 'default', checkedAt: Date.now(), message: 'down',
  };
  assert.is(await mod.react(event, { signal: AbortSignal.timeout(1000), logger: silentLogger }), 'ran');
  assert.is(readFileSync(file, 'utf8'), 'site is failed');
});

test('a syntax error is CR_MODULE_INVALID naming the file and line, in the entry or in a sibling', async () => {
  const loader = checkLoader([checks]);
  const err = await refusal(loader.load('ts-broken'));
  assert.is(err.code, 'CR_MODULE_INVALID');
  assert.match(err.message, 'check module "ts-broken" is broken');
  assert.match(err.message, `${join(checks, 'ts-broken', 'index.ts')}:2:`);
  const sibling = await refusal(loader.load('ts-broken-sibling'));
  assert.match(sibling.message, `${join(checks, 'ts-broken-sibling', 'util.ts')}:2:`);
});

test("a TypeScript module's stack trace names its .ts lines", async () => {
  const mod = await checkLoader([checks]).load('ts-check');
  try {
    await mod.check(job('ts-check', { n: 13 }), ctx());
    assert.unreachable('it throws for 13');
  } catch (err) {
    const stack = (err as Error).stack ?? '';
    assert.match(stack, `${join(checks, 'ts-check', 'util.ts')}:5:`);
    assert.match(stack, `${join(checks, 'ts-check', 'index.ts')}:16:`);
  }
});

test('index.ts wins over index.js in the same folder; list() names TypeScript modules', async () => {
  const loader = checkLoader([checks]);
  assert.is((await loader.load('both')).meta.title, 'from index.ts');
  const names = loader.list();
  for (const n of ['ts-check', 'ts-broken', 'both', 'vendored']) assert.ok(names.includes(n), n);
});

test('.ts files inside node_modules are not transpiled', async () => {
  const err = await refusal(checkLoader([checks]).load('vendored'));
  assert.is(err.code, 'CR_MODULE_INVALID');
  assert.match(err.message, join(checks, 'vendored', 'node_modules', 'dep', 'index.ts'));
});

test('a TypeScript module is transpiled and evaluated once per process, whichever loader asks', async () => {
  assert.is(await checkLoader([checks]).load('ts-check'), await checkLoader([checks, actions]).load('ts-check'));
});

test('the CLI lists and runs a TypeScript module from CLOUDROUTES_CHECKS_PATH', async () => {
  const env = { CLOUDROUTES_CHECKS_PATH: checks, CLOUDROUTES_ACTIONS_PATH: actions, CLOUDROUTES_DATA_DIR: join(root, 'data'), LOG_LEVEL: 'silent' };
  const listed = await cli(['modules', '--json'], env);
  assert.is(listed.code, 0, listed.stderr);
  const out = JSON.parse(listed.stdout) as { checks: { name: string; title?: string; error?: string }[]; reactions: { name: string; title?: string }[] };
  assert.equal(out.checks.find((m) => m.name === 'ts-check')?.title, 'TS check');
  assert.equal(out.reactions.find((m) => m.name === 'ts-reaction')?.title, 'TS reaction');
  assert.match(out.checks.find((m) => m.name === 'ts-broken')?.error ?? '', `index.ts:2:`);
  const ran = await cli(['check', 'ts-check', '--data', '{"n":4}', '--json'], env);
  assert.is(ran.code, 0, ran.stderr);
  assert.equal(JSON.parse(ran.stdout).metrics, { doubled: 8 });
});

test('worker and sink processes run a TypeScript check and a TypeScript reaction end to end', async () => {
  const redisServer = await new RedisServer().start();
  const redis: Redis = redisServer.client();
  const procs: Proc[] = [];
  try {
    const env = {
      REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(root, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(root, 'data'),
      CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_CHECKS_PATH: checks, CLOUDROUTES_ACTIONS_PATH: actions,
    };
    for (const name of ['broker', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
    await Promise.all(procs.map((p) => p.waitFor(`"${p.args[0]} ${p.args[0] === 'broker' ? 'listening' : 'started'}"`)));
    const file = join(root, 'e2e-out.txt');
    await putReaction(redis, 'default', { id: 'r-ts', rtype: 'ts-reaction', data: { file, text: '{{monitor.name}}: {{message}}' } });
    await putMonitor(redis, 'default', { id: 'm-ts', name: 'negative', ctype: 'ts-check', data: { n: -3 }, reactions: ['r-ts'] });
    // Until the file has its text: a file just created may still be empty.
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').length > 0, 15_000, 'the TypeScript reaction to write its file');
    assert.is(readFileSync(file, 'utf8'), 'negative: n=-3');
  } finally {
    await Promise.all(procs.map((p) => p.kill()));
    redis.disconnect();
    await redisServer.stop();
  }
});

test.run();

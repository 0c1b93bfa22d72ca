/** cloudroutes/testing used as a module author uses it, on small modules in a temp folder; the docs' examples run as written. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCheck, runReaction, validateData } from '../src/testing/index.js';
import { closedPort } from './helpers/peers.js';
import { cli } from './helpers/procs.js';
import { refusal } from './helpers/refusal.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(REPO, 'docs', 'examples');
const root = mkdtempSync(join(tmpdir(), 'cr-testing-'));

function write(path: string, source: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, source.trimStart());
  return path;
}

const SLEEPY = write(join(root, 'checks', 'sleepy', 'index.ts'), `
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from 'cloudroutes';

export const meta: PluginMeta = {
  title: 'Sleepy',
  description: 'Waits sleepMs, then is healthy; honours the deadline unless told to ignore it.',
  fields: {
    type: 'object',
    properties: {
      sleepMs: { type: 'integer', minimum: 0, description: 'how long to wait' },
      ignoreSignal: { type: 'boolean', description: 'wait even after the deadline' },
      fail: { type: 'string', description: 'throw this message' },
      token: { type: 'string', secret: true, description: 'a secret' },
    },
    required: ['sleepMs'],
    additionalProperties: false,
  },
};

export function prepareData(data: Record<string, unknown>, monitor: { id: string }): Record<string, unknown> {
  return { token: 'tok-' + monitor.id, ...data };
}

export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const { sleepMs, ignoreSignal, fail } = job.data as { sleepMs: number; ignoreSignal?: boolean; fail?: string };
  if (fail) throw new Error(fail);
  ctx.logger.info({ token: job.data.token, interval: job.interval, zone: job.zone }, 'sleeping');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, sleepMs);
    if (!ignoreSignal) ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(ctx.signal.reason); });
  }).catch(() => undefined);
  if (ctx.signal.aborted) return { status: 'unknown', message: 'gave up at the deadline' };
  const last = await ctx.lastSignal?.();
  return { status: 'healthy', message: last ? 'told ' + last.status : 'slept' };
}
`).replace(/\/index\.ts$/, '');

const NOTE = write(join(root, 'actions', 'note', 'index.ts'), `
import { render, type ReactionContext, type ReactionEvent, type ReactionOutcome, type ReactionRuleInput } from 'cloudroutes';

export const meta = {
  title: 'Note',
  description: 'Logs a rendered line; ran, or failed when told to; hangs past the deadline when told to.',
  fields: {
    type: 'object' as const,
    properties: {
      text: { type: 'string' as const, template: true, description: 'the line' },
      password: { type: 'string' as const, secret: true, description: 'a secret' },
      hang: { type: 'boolean' as const, description: 'never finish' },
    },
    required: ['text'],
    additionalProperties: false,
  },
};

export function shouldRun({ failcount }: ReactionRuleInput): boolean {
  return failcount >= 3;
}

export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionOutcome> {
  const data = event.reaction.data as { text: string; password?: string; hang?: boolean };
  if (data.hang) await new Promise(() => undefined);
  ctx.logger.warn({ password: data.password }, render(data.text, event));
  return event.status === 'failed' ? 'ran' : 'skipped';
}
`).replace(/\/index\.ts$/, '');

const LEAKY = write(join(root, 'actions', 'leaky', 'index.ts'), `
import type { ReactionEvent, ReactionModule, ReactionReturn } from 'cloudroutes';

export const meta: ReactionModule['meta'] = {
  title: 'Leaky',
  kind: 'fix',
  description: 'Fails with a message that repeats its secret token.',
  fields: { type: 'object', properties: { token: { type: 'string', secret: true } }, required: ['token'] },
};

export async function react(event: ReactionEvent): Promise<ReactionReturn> {
  return { outcome: 'failed', message: 'the API refused token ' + String(event.reaction.data.token) };
}
`).replace(/\/index\.ts$/, '');

test.after(() => rmSync(root, { recursive: true, force: true }));

test('runCheck runs a module folder with prepared data, decrypted secrets, job fields and captured logs', async () => {
  const { result, logs, overran } = await runCheck(SLEEPY, { sleepMs: 5 }, { monitor: { id: 'm-abc', interval: 30 }, zone: 'eu' });
  assert.is(result.status, 'healthy');
  assert.is(result.message, 'slept');
  assert.type(result.latencyMs, 'number');
  assert.not.ok(overran);
  assert.is(logs.length, 1);
  assert.is(logs[0]!.level, 'info');
  assert.is(logs[0]!.msg, 'sleeping');
  assert.equal({ ...logs[0], time: 0 }, { level: 'info', time: 0, monitorId: 'm-abc', ctype: 'sleepy', token: 'tok-m-abc', interval: 30, zone: 'eu', msg: 'sleeping' });
});

test('runCheck gives ctx.lastSignal what the test says', async () => {
  const { result } = await runCheck(SLEEPY, { sleepMs: 0 }, { lastSignal: { at: Date.now(), status: 'failed' } });
  assert.is(result.message, 'told failed');
});

test('a check that ignores its deadline is cut off as the worker does it, and reported as overran', async () => {
  const started = Date.now();
  const { result, overran } = await runCheck(SLEEPY, { sleepMs: 1500, ignoreSignal: true }, { timeoutMs: 200 });
  assert.equal({ status: result.status, message: result.message }, { status: 'unknown', message: 'check timed out after 200 ms' });
  assert.ok(overran);
  assert.ok(Date.now() - started < 1000, 'the helper returns at the deadline, not when the module finishes');
  const polite = await runCheck(SLEEPY, { sleepMs: 1500 }, { timeoutMs: 200 });
  assert.equal(polite.result.message, 'gave up at the deadline');
  assert.not.ok(polite.overran);
});

test('a check that throws is unknown, naming the reason', async () => {
  const { result } = await runCheck(SLEEPY, { sleepMs: 0, fail: 'no route to host' });
  assert.is(result.status, 'unknown');
  assert.is(result.message, 'check "sleepy" could not run: no route to host');
});

test('bad data is refused with the message "monitor add" gives, naming the field', async () => {
  const err = await refusal(runCheck(SLEEPY, { sleepMs: -1, extra: 1 }));
  assert.is(err.code, 'CR_BAD_DATA');
  assert.is(err.message, 'data for check "sleepy" does not match its schema: data.sleepMs must be >= 0; data.extra is not a known field');
  assert.is(err.field, 'data.sleepMs');
  const missing = await refusal(validateData('check', SLEEPY, {}));
  assert.match(missing.message, 'data.sleepMs is required');
});

test('validateData returns the data a module would receive (prepared, secrets in plain text)', async () => {
  assert.equal(await validateData('check', SLEEPY, { sleepMs: 1 }), { token: 'tok-m-test', sleepMs: 1 });
  assert.equal(await validateData('reaction', NOTE, { text: '{{status}}', password: 'pw' }), { text: '{{status}}', password: 'pw' });
});

test('a missing module is CR_MODULE_NOT_FOUND naming the folder or the name', async () => {
  const folder = await refusal(runCheck(join(root, 'checks', 'nothing-here'), {}));
  assert.is(folder.code, 'CR_MODULE_NOT_FOUND');
  assert.match(folder.message, join(root, 'checks', 'nothing-here'));
  // A folder without an index file must not fall back to the built-in of the same name.
  mkdirSync(join(root, 'checks', 'tcp-check'), { recursive: true });
  assert.is((await refusal(runCheck(join(root, 'checks', 'tcp-check'), {}))).code, 'CR_MODULE_NOT_FOUND');
  const byName = await refusal(runReaction('no-such-reaction', {}));
  assert.match(byName.message, 'reaction "no-such-reaction" is not installed');
});

test('a built-in module runs by name', async () => {
  const server: Server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { result } = await runCheck('tcp-check', { host: '127.0.0.1', port: (server.address() as { port: number }).port });
    assert.is(result.status, 'healthy');
  } finally {
    server.close();
  }
});

test('runReaction gives the sink\'s event, secrets decrypted, templates rendered, logs captured', async () => {
  const run = await runReaction(NOTE, { text: '{{monitor.name}} is {{status}} ({{failcount}})', password: 's3cret' }, { monitor: { name: 'db' }, failcount: 2 });
  assert.is(run.outcome, 'ran');
  assert.equal(run.event.reaction, { id: 'r-test', name: 'test reaction', rtype: 'note', data: { text: '{{monitor.name}} is {{status}} ({{failcount}})', password: 's3cret' } });
  assert.equal(Object.keys(run.event).sort(), ['checkedAt', 'failcount', 'message', 'monitor', 'previousStatus', 'reaction', 'status', 'zone']);
  assert.is(run.event.previousStatus, 'healthy');
  assert.equal(run.logs.map((l) => [l.level, l.msg, l.password, l.reactionId]), [['warn', 'db is failed (2)', 's3cret', 'r-test']]);
  assert.is(run.wouldRun, false, "the module's shouldRun wants 3 failures");
  assert.is((await runReaction(NOTE, { text: 'x' }, { failcount: 3 })).wouldRun, true);
  const healthy = await runReaction(NOTE, { text: 'x' }, { status: 'healthy' });
  assert.equal([healthy.outcome, healthy.event.previousStatus, healthy.event.failcount], ['skipped', 'failed', 0]);
});

test('runReaction refuses an unknown template field as "reaction add" does; a hang is a failed run', async () => {
  const err = await refusal(runReaction(NOTE, { text: '{{monitor.nam}}' }));
  assert.is(err.code, 'CR_BAD_DATA');
  assert.match(err.message, 'data.text uses unknown template field {{monitor.nam}}');
  const hung = await runReaction(NOTE, { text: 'x', hang: true }, {}, { timeoutMs: 150 });
  assert.equal([hung.outcome, hung.message], ['failed', 'reaction timed out after 150 ms']);
});

test('runReaction returns the message a module gives with its outcome, without the secret values of its data', async () => {
  const port = await closedPort();
  const run = await runReaction('webhook', { url: `http://127.0.0.1:${port}/hook`, headers: { authorization: 'Bearer tok-0123456789' } });
  assert.is(run.outcome, 'failed');
  assert.is(run.message, `POST http://127.0.0.1:${port}/hook: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port}`);
  assert.not.match(JSON.stringify(run.logs), 'tok-0123456789');
});

test('a module\'s message that repeats a secret value of its data is masked, as the sink records it', async () => {
  const run = await runReaction(LEAKY, { token: 'tok-abcdef-123' });
  assert.equal([run.outcome, run.message], ['failed', 'the API refused token ***']);
});

test('cloudroutes react runs a reaction from CLOUDROUTES_ACTIONS_PATH for a sample event', async () => {
  const env = { CLOUDROUTES_ACTIONS_PATH: join(root, 'actions'), CLOUDROUTES_DATA_DIR: join(root, 'data'), LOG_LEVEL: 'silent' };
  const r = await cli(['react', 'note', '--data', '{"text":"{{monitor.name}}: {{message}}"}', '--monitor', 'web', '--message', 'HTTP 502', '--json'], env);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { outcome: string; logs: { msg: string }[] };
  assert.is(out.outcome, 'ran');
  assert.is(out.logs[0]!.msg, 'web: HTTP 502');
  const text = await cli(['react', 'note', '--data', '{"text":"{{status}}"}', '--status', 'healthy'], env);
  assert.match(text.stdout, /^skipped \(\d+ ms\)\n {2}warn healthy /);
  const bad = await cli(['react', 'note', '--status', 'down'], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, 'setting status="down" is invalid');
});

// The docs' examples: what the guide shows is the files, the files type-check, and their own tests pass.

const GUIDE = join(REPO, 'docs', 'writing-modules.md');

function exampleFiles(dir = EXAMPLES): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? exampleFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

test('each example the guide shows is the file it names, as it is', () => {
  const guide = readFileSync(GUIDE, 'utf8');
  const shown = [...guide.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)];
  const named = shown.map((m) => m[1]);
  for (const file of exampleFiles()) assert.ok(named.includes(file.slice(EXAMPLES.length + 1)), `the guide shows ${file}`);
  for (const [, file, body] of shown) assert.fixture(body!, readFileSync(join(EXAMPLES, file!), 'utf8'));
});

test('the examples type-check (strict) against the types cloudroutes and cloudroutes/testing export', () => {
  const program = ts.createProgram(exampleFiles().filter((f) => f.endsWith('.ts')), {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'], skipLibCheck: true, baseUrl: REPO,
    paths: { cloudroutes: ['src/core/plugin-api.ts'], 'cloudroutes/testing': ['src/testing/index.ts'] },
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => REPO, getNewLine: () => '\n' }));
  assert.equal(problems, []);
});

test("the examples' tests pass, run as the guide says", async () => {
  const register = join(REPO, 'dist', 'src', 'testing', 'register.js');
  const files = exampleFiles(join(EXAMPLES, 'test')).map((f) => f.slice(EXAMPLES.length + 1));
  const child = spawn(process.execPath, ['--import', register, '--test', ...files], { cwd: EXAMPLES, env: { ...process.env, LOG_LEVEL: 'silent' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.is(code, 0, out);
  assert.match(out, /# fail 0/);
  assert.ok(Number(/# pass (\d+)/.exec(out)?.[1]) >= 8, out);
});

test.run();

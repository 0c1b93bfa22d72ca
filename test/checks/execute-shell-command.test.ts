import { randomInt } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job, until } from '../helpers/peers.js';
import { pidsWith } from '../helpers/procs.js';

let mod: CheckModule;
test.before(async () => {
  mod = await checkLoader().load('execute-shell-command');
});
const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('execute-shell-command', data, ms), ctx(ms));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { command: '' }).join(), 'data.command must have at least 1 characters');
  assert.match(validate(f, { argv: ['ls', ''] }).join(), 'data.argv[1] must have at least 1 characters');
  assert.match(validate(f, { command: 'true', okCodes: [300] }).join(), 'data.okCodes[0] must be <= 255');
  assert.match(validate(f, { command: 'true', shell: 'bash' }).join(), 'data.shell is not a known field');
  assert.equal(validate(f, { command: 'true', argv: ['true'] }), ['data must set exactly one of command, argv (it sets command and argv)']);
  assert.equal(validate(f, { okCodes: [0] }), ['data must set exactly one of command, argv (it sets none)']);
  assert.equal(validate(f, { argv: [] }), ['data.argv must have at least 1 item']);
  assert.equal(validate(f, { argv: ['true'], okCodes: [0, 1], timeoutMs: 1000 }), []);
});

test("CloudRoutes' own settings (secret key, Redis and store URLs) do not reach the command; the rest of the environment does", async () => {
  const saved = { ...process.env };
  Object.assign(process.env, {
    CLOUDROUTES_SECRET_KEY: 'ab'.repeat(32), CLOUDROUTES_STORE: 'rethinkdb://admin:hunter2@db:28015/cr', REDIS_URL: 'redis://:hunter2@cache:6379', SITE_NAME: 'shop',
  });
  try {
    const r = await run({ command: 'env | grep -E "^(CLOUDROUTES_|REDIS_URL|SITE_NAME)" | sort; exit 1' });
    assert.is(r.message, 'exit status 1: SITE_NAME=shop');
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
});

test('exit status 0 is healthy', async () => {
  const r = await run({ command: 'echo hello && exit 0' });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, 'exit status 0: hello');
  assert.equal(r.metrics, { exitCode: 0 });
  assert.ok(r.latencyMs! >= 0);
});

test('another status fails with the code and the stderr tail', async () => {
  const r = await run({ command: 'echo out; echo "disk on fire" >&2; exit 3' });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'exit status 3: disk on fire');
  assert.equal(r.metrics, { exitCode: 3 });
});

test('only the last ~500 bytes of a long output are kept', async () => {
  const r = await run({ command: 'head -c 20000 /dev/zero | tr "\\0" a; echo END; exit 1' });
  assert.is(r.status, 'failed');
  assert.ok(r.message!.endsWith('aEND'), r.message!.slice(-20));
  assert.ok(r.message!.length < 560, String(r.message!.length));
});

test('okCodes makes other statuses healthy', async () => {
  assert.is((await run({ command: 'exit 3', okCodes: [0, 3] })).status, 'healthy');
  assert.is((await run({ command: 'exit 0', okCodes: [3] })).status, 'failed');
});

test('argv runs without a shell: metacharacters stay plain arguments', async () => {
  const r = await run({ argv: ['/bin/echo', '$(id)', ';', 'exit 1'] });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, 'exit status 0: $(id) ; exit 1');
  const missing = await run({ argv: ['/no/such/program'] });
  assert.is(missing.status, 'failed');
  assert.match(missing.message!, 'could not start: ENOENT');
});

test('a command past the deadline is killed with its whole process group: failed "timed out"', async () => {
  const tag = `10.${randomInt(1e8, 1e9)}`;
  const started = Date.now();
  // A unique duration marks the sleep; the shell forks it, so killing only the shell would leave it running.
  const r = await run({ command: `sleep ${tag}; true`, timeoutMs: 300 }, 5000);
  const took = Date.now() - started;
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^timed out after \d+ ms \(process group killed\)/);
  assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  await until(() => pidsWith(tag).length === 0, 1000);
});

test('command and argv together, or neither: unknown, saying why', async () => {
  for (const data of [{}, { command: 'true', argv: ['true'] }]) {
    const r = await run(data);
    assert.is(r.status, 'unknown');
    assert.match(r.message!, 'exactly one of data.command');
  }
});

test.run();

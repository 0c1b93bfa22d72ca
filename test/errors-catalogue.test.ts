/** The one error catalogue: every code the web answers with has its status there, the field at fault is data, and no error is raised outside it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloudRoutesError, errors, HTTP_STATUS, httpStatus, type ErrorCode } from '../src/core/errors.js';
import { fieldProblems, validate } from '../src/core/schema.js';
import type { FieldSchema } from '../src/core/types.js';
import { toHttp, type ErrorBody } from '../src/web/errors.js';
import { RedisServer } from './helpers/redis-server.js';
import { REPO, sources } from './helpers/sources.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';

const CATALOGUE = readFileSync(join(REPO, 'src/core/errors.ts'), 'utf8');

/** The code each catalogue entry makes, read from its source: `name: (...) => new CloudRoutesError('CR_X'` or a subclass. */
function entryCodes(): Map<string, string> {
  const block = CATALOGUE.slice(CATALOGUE.indexOf('export const errors = {'));
  const subclassCode = (cls: string) => new RegExp(`class ${cls} extends CloudRoutesError[\\s\\S]*?super\\('(CR_[A-Z_]+)'`).exec(CATALOGUE)?.[1];
  const codes = new Map<string, string>();
  for (const m of block.matchAll(/^ {2}(\w+): \([^)]*\)(?:: \w+)? =>[\s\S]*?new (\w+)\((?:'(CR_[A-Z_]+)')?/gm)) {
    const code = m[3] ?? subclassCode(m[2]!);
    if (code) codes.set(m[1]!, code);
  }
  return codes;
}

test('every error the web raises is a catalogue entry whose code has its own HTTP status', () => {
  const codes = entryCodes();
  assert.ok(codes.size >= 30, `read ${codes.size} catalogue entries`);
  const used = new Set<string>();
  for (const file of sources('src/web')) {
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const m of text.matchAll(/\berrors\.(\w+)\(/g)) used.add(m[1]!);
    assert.not.match(text, /(?:code:\s*|\d{3},\s*)['"]CR_/, `${file} answers with a code of its own instead of raising a catalogue entry`);
  }
  for (const name of ['throttled', 'unauthorized', 'readOnly', 'noRoute', 'badRequest', 'badTime', 'badBody', 'wrongEndpoint', 'busy', 'internal']) {
    assert.ok(used.has(name), `the web raises errors.${name}`);
  }
  for (const name of used) assert.ok(codes.get(name), `errors.${name} is in the catalogue`);
});

test('every code of the ErrorCode union, and every code an entry makes, has an HTTP status of 400-599', () => {
  const union = CATALOGUE.slice(CATALOGUE.indexOf('export type ErrorCode ='), CATALOGUE.indexOf(';', CATALOGUE.indexOf('export type ErrorCode =')));
  const declared = [...union.matchAll(/'(CR_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
  assert.ok(declared.length >= 40, `read ${declared.length} codes from the ErrorCode union`);
  for (const code of [...declared, ...entryCodes().values()]) {
    const status = (HTTP_STATUS as Record<string, number | undefined>)[code];
    assert.ok(status !== undefined && status >= 400 && status < 600, `${code} has an HTTP status in HTTP_STATUS (got ${status})`);
  }
  assert.equal(Object.keys(HTTP_STATUS).sort(), [...new Set(declared)].sort(), 'HTTP_STATUS names exactly the codes of the union');
  // What a server-side fault answers with, not the 400 a usage error without a status of its own fell back to.
  assert.is(httpStatus(errors.secretUnreadable('password', 'it was encrypted with another CLOUDROUTES_SECRET_KEY')), 500, 'naming its field does not make it the request\'s fault');
  assert.is(httpStatus(errors.secretForeign('password', 'an enc:v1 value is only kept in place')), 400);
  assert.is(httpStatus(errors.redisUnreachable('redis://127.0.0.1:1', 'ECONNREFUSED')), 503);
  assert.is(httpStatus(errors.noAnswer('the broker', 1000)), 504);
  assert.is(httpStatus(errors.moduleSyntax('checks/x/index.js', 'Unexpected token')), 500);
  assert.is(httpStatus(errors.failpoint('worker.receive')), 500);
});

test('the statuses the catalogue gives are the ones a client gets over HTTP', async () => {
  const redis = new RedisServer();
  await redis.start();
  let w: WebFixture | undefined;
  try {
    w = await startWebFixture(redis.url, {}, { authCooldownMs: 60_000 });
    const answer = async (res: Response, code: ErrorCode) => {
      const body = (await res.json()) as ErrorBody;
      assert.is(body.error.code, code);
      assert.is(res.status, HTTP_STATUS[code], `${code}: ${body.error.message}`);
      return body;
    };
    await answer(await w.call('/api/v1/nothing-here'), 'CR_NOT_FOUND');
    await answer(await w.call('/api/v1/monitors/m-none'), 'CR_NO_SUCH_MONITOR');
    await answer(await w.call('/api/v1/monitors', { method: 'POST', key: w.readKey, headers: { 'content-type': 'application/json' }, body: '{}' }), 'CR_READ_ONLY');
    const bad = await answer(await w.call('/api/v1/monitors', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 's', ctype: 'tcp-check', interval: '10s', data: { host: '127.0.0.1', port: 70000 } }),
    }), 'CR_BAD_DATA');
    assert.is(bad.error.field, 'data.port');
    for (let i = 0; i < 9; i++) await answer(await w.call('/api/v1/modules', { key: `cr_bad_${i}` }), 'CR_UNAUTHORIZED');
    await answer(await w.call('/api/v1/modules', { key: 'cr_bad_last' }), 'CR_THROTTLED');
  } finally {
    await w?.stop();
    await redis.stop();
  }
});

test('the field at fault travels as data: from the schema problem to the error to the HTTP body', () => {
  const schema: FieldSchema = {
    type: 'object',
    properties: { port: { type: 'integer', minimum: 1 }, hosts: { type: 'array', items: { type: 'string' } } },
    required: ['port'],
    additionalProperties: false,
  };
  const problems = fieldProblems(schema, { hosts: ['a', 5], extra: 1 });
  assert.equal(problems, [
    { path: 'data.port', message: 'data.port is required' },
    { path: 'data.hosts[1]', message: 'data.hosts[1] must be a string, got integer' },
    { path: 'data.extra', message: 'data.extra is not a known field' },
  ]);
  assert.equal(validate(schema, { hosts: ['a', 5], extra: 1 }), problems.map((p) => p.message), 'validate gives the same sentences');
  const err = errors.badData('check "x"', problems);
  assert.is(err.message, 'data for check "x" does not match its schema: data.port is required; data.hosts[1] must be a string, got integer; data.extra is not a known field');
  assert.is(err.field, 'data.port');
  assert.equal(toHttp(err), { status: 400, body: { error: { code: 'CR_BAD_DATA', message: err.message, field: 'data.port' } } });
  // A message that merely reads like a field path is not mined for one.
  const plain = new CloudRoutesError('CR_BAD_DATA', 'data for check "x" does not match its schema: data.port must be >= 1');
  assert.equal(toHttp(plain).body.error.field, undefined);
});

test('SSH, deadline and stream-entry errors are catalogue errors carrying their data', () => {
  const ssh = errors.ssh('host-key', 'the SSH host key of h:22 changed');
  assert.instance(ssh, CloudRoutesError);
  assert.equal([ssh.code, ssh.kind, ssh.message], ['CR_SSH', 'host-key', 'the SSH host key of h:22 changed']);
  const late = errors.timedOut(250);
  assert.equal([late.code, late.elapsedMs, late.message], ['CR_TIMED_OUT', 250, 'timed out after 250 ms']);
  const entry = errors.badEntry('checkedAt', 'is not a number: "x"');
  assert.equal([entry.code, entry.field, entry.message], ['CR_BAD_ENTRY', 'checkedAt', 'field "checkedAt" is not a number: "x"']);
  assert.is(httpStatus(errors.unauthorized('no key')), 401);
});

/**
 * Errors made outside the catalogue that never reach a user as such: each is caught and turned into a catalogue
 * error or a check result where it is made. Anything else raised with `new Error` or a class of its own fails this test.
 */
const INTERNAL: Record<string, { most: number; why: string }> = {
  'src/web/dashboard/monitor-page.ts': { most: 1, why: "re-raises the store's own message to fall back to Redis in the catch below it" },
  'src/web/dashboard/reactions-page.ts': { most: 1, why: "re-raises the store's own message to fall back to Redis in the catch below it" },
  'src/store/rethinkdb-pool.ts': { most: 3, why: "a connection slot's last error, reported inside errors.store" },
  'src/store/rethinkdb-feed.ts': { most: 1, why: "a change feed's error row, reported inside errors.store" },
  'src/bridge/support.ts': { most: 2, why: 'ends a wait when the bridge stops; never reported' },
  'src/core/duration.ts': { most: 5, why: 'every caller turns a bad duration into CR_BAD_INTERVAL or CR_BAD_SETTING' },
  'src/core/messages.ts': { most: 1, why: 'BadMessage: a refused wire message, counted by its reason and never shown as such' },
  'checks/_shared/http-probe.ts': { most: 3, why: "sentinels that end an HTTP probe, turned into the check's result" },
};

test('no error is raised outside the catalogue in src/, plugin-support/ and checks/_shared/', () => {
  const raised = /new (?:[A-Z]\w*)?Error\(|class \w+ extends Error\b/g;
  const found: string[] = [];
  for (const file of [...sources('src'), ...sources('plugin-support'), ...sources('checks/_shared')]) {
    if (file === 'src/core/errors.ts') continue;
    const hits = [...readFileSync(join(REPO, file), 'utf8').matchAll(raised)].length;
    if (hits > (INTERNAL[file]?.most ?? 0)) found.push(`${file}: ${hits}`);
  }
  assert.equal(found, [], 'add an entry to src/core/errors.ts and raise it with errors.<entry>(...)');
  // The catalogue's subclasses are made only through its entries.
  for (const file of [...sources('src'), ...sources('plugin-support'), ...sources('checks'), ...sources('actions')]) {
    if (file === 'src/core/errors.ts') continue;
    assert.not.match(readFileSync(join(REPO, file), 'utf8'), /new (?:SshError|TimedOut|BadEntry|CloudRoutesError)\(/, file);
  }
});

test.run();

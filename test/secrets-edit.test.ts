/**
 * Editing around stored secrets: keeping one ("(secret)") while changing where it is sent is refused (API 400, CLI
 * exit 2, apply), and read-only API keys see nothing of the secrets while read-write keys see "(secret)".
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { encryptValue } from '../src/core/crypto.js';
import type { Monitor, Reaction } from '../src/core/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { cli } from './helpers/procs.js';
import { json, useWebApi, type ErrorBody } from './helpers/web-api.js';

const w = useWebApi(test);
const dir = mkdtempSync(join(tmpdir(), 'cr-secrets-edit-'));
const env = { CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'), CLOUDROUTES_SECRET_KEY: 'cd'.repeat(32), LOG_LEVEL: 'silent' };
const run = (...args: string[]) => cli(args, env, dir);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const send = async <T>(method: string, path: string, body: unknown, key?: string) => {
  const res = await w.call(path, { method, ...json(body), ...(key ? { key } : {}) });
  return { status: res.status, body: (await res.json()) as T };
};
const site = (url: string, headers: unknown) => ({ name: 'site', ctype: 'http-get-statuscode', interval: '30s', data: { url, headers } });

test('PUT keeping a secret while changing the origin it is sent to is refused with 400 naming the field; the stored monitor is unchanged', async () => {
  const created = await send<Monitor>('POST', '/api/v1/monitors', site('https://api.example.com/health', { authorization: 'Bearer s3cret' }));
  assert.is(created.status, 201);
  const id = created.body.id;
  const before = await w.store.getMonitor(id);
  for (const url of ['https://evil.example.net/health', 'http://api.example.com/health', 'https://api.example.com:8443/health']) {
    const moved = await send<ErrorBody>('PUT', `/api/v1/monitors/${id}`, site(url, '(secret)'));
    assert.is(moved.status, 400, url);
    assert.is(moved.body.error.code, 'CR_SECRET_MOVED');
    assert.is(moved.body.error.field, 'data.headers');
    assert.match(moved.body.error.message, /data\.headers .*send the secret again to send it somewhere new/);
  }
  assert.equal(await w.store.getMonitor(id), before, 'nothing was stored');
  const samePlace = await send<Monitor>('PUT', `/api/v1/monitors/${id}`, site('https://api.example.com/other/path', '(secret)'));
  assert.is(samePlace.status, 200, 'another path of the same origin keeps the secret');
  const sentAgain = await send<Monitor>('PUT', `/api/v1/monitors/${id}`, site('https://new.example.org/', { authorization: 'Bearer n3w' }));
  assert.is(sentAgain.status, 200, 'the secret given again may go somewhere new');
});

test('the same holds for a host and port (service checks) and for a reaction\'s URL', async () => {
  const redis = (port: number, password: unknown) => ({ name: 'cache', ctype: 'redis', interval: 10, data: { host: '10.0.0.5', port, password } });
  const m = await send<Monitor>('POST', '/api/v1/monitors', redis(6379, 'pw'));
  assert.is(m.status, 201);
  const moved = await send<ErrorBody>('PUT', `/api/v1/monitors/${m.body.id}`, redis(6380, '(secret)'));
  assert.is(moved.status, 400);
  assert.is(moved.body.error.field, 'data.password');
  const defaultPort = await send<Monitor>('PUT', `/api/v1/monitors/${m.body.id}`, { ...redis(6379, '(secret)'), data: { host: '10.0.0.5', password: '(secret)' } });
  assert.is(defaultPort.status, 200, 'leaving out the default port sends it to the same place');

  const hook = (url: string, headers: unknown) => ({ name: 'hook', rtype: 'webhook', data: { url, headers } });
  const r = await send<Reaction>('POST', '/api/v1/reactions', hook('https://hooks.example.com/x', { 'x-key': 'k' }));
  assert.is(r.status, 201);
  const away = await send<ErrorBody>('PUT', `/api/v1/reactions/${r.body.id}`, hook('https://attacker.example/x', '(secret)'));
  assert.is(away.status, 400);
  assert.is(away.body.error.code, 'CR_SECRET_MOVED');
  assert.is(away.body.error.field, 'data.headers');
});

test('PUT keeping a secret while weakening how it is sent (tlsVerify off, security none, tls off) is refused with 400 naming the field; sent again, the change is accepted', async () => {
  /** Creates `body` at `path`, then PUTs each of `weaker` (data changes, the secret kept) and expects a refusal naming `secret` and the changed field. */
  const refusedFor = async (path: string, body: Record<string, unknown> & { data: Record<string, unknown> }, secret: string, weaker: Record<string, unknown>[]) => {
    const created = await send<{ id: string }>('POST', path, body);
    assert.is(created.status, 201, JSON.stringify(created.body));
    const at = `${path}/${created.body.id}`;
    const stored = path.endsWith('monitors') ? () => w.store.getMonitor(created.body.id) : () => w.store.getReaction(created.body.id);
    const before = await stored();
    for (const change of weaker) {
      const other = Object.keys(change)[0]!;
      const res = await send<ErrorBody>('PUT', at, { ...body, data: { ...body.data, [secret]: '(secret)', ...change } });
      assert.is(res.status, 400, `${path} ${JSON.stringify(change)}`);
      assert.is(res.body.error.code, 'CR_SECRET_MOVED');
      assert.is(res.body.error.field, `data.${secret}`);
      assert.match(res.body.error.message, new RegExp(`data\\.${secret} is kept as stored but data\\.${other} would change from .* to ${JSON.stringify(change[other])}.*send the secret again`));
    }
    assert.equal(await stored(), before, 'nothing was stored');
    return { at, body };
  };

  const check = await refusedFor('/api/v1/monitors', site('https://api.example.com/', { authorization: 'Bearer s3cret' }), 'headers', [{ tlsVerify: false }]);
  assert.is((await send('PUT', check.at, { ...check.body, name: 'renamed', data: { ...check.body.data, headers: '(secret)', followRedirects: true, tlsVerify: true } })).status, 200, 'an unrelated edit, and tlsVerify as its default, keep the secret');
  assert.is((await send('PUT', check.at, { ...check.body, data: { ...check.body.data, headers: { authorization: 'Bearer s3cret' }, tlsVerify: false } })).status, 200, 'sent again, tlsVerify may be turned off');
  assert.is((await send('PUT', check.at, { ...check.body, data: { ...check.body.data, headers: '(secret)', tlsVerify: false } })).status, 200, 'then kept as it is');

  const email = { name: 'mail', rtype: 'email', data: { host: 'smtp.example.com', user: 'alerts', password: 'pw', from: 'a@example.com', to: ['b@example.com'] } };
  const mail = await refusedFor('/api/v1/reactions', email, 'password', [{ security: 'none' }, { tlsVerify: false }, { security: 'tls' }]);
  assert.is((await send('PUT', mail.at, { ...email, name: 'mail renamed', data: { ...email.data, password: '(secret)', subject: 'down: {{monitor.name}}' } })).status, 200, 'an unrelated edit keeps the password');
  assert.is((await send('PUT', mail.at, { ...email, data: { ...email.data, security: 'none' } })).status, 200, 'sent again, security none is accepted');

  const salt = { name: 'salt', rtype: 'saltstack', data: { url: 'https://salt.example.com:8000', username: 'u', password: 'pw', tgt: 'web*', fun: 'test.ping' } };
  await refusedFor('/api/v1/reactions', salt, 'password', [{ tlsVerify: false }]);

  const amqp = { name: 'broker', ctype: 'amqp', interval: 30, data: { host: 'mq.example.com', user: 'u', password: 'pw', tls: true } };
  const mq = await refusedFor('/api/v1/monitors', amqp, 'password', [{ tls: false }]);
  assert.is((await send('PUT', mq.at, { ...amqp, data: { ...amqp.data, password: '(secret)', queue: 'jobs' } })).status, 200, 'an unrelated edit keeps the password');
  for (const ctype of ['redis', 'postgres', 'mysql', 'mqtt']) {
    const extra = ctype === 'postgres' || ctype === 'mysql' ? { user: 'u', database: 'd' } : {};
    await refusedFor('/api/v1/monitors', { name: ctype, ctype, interval: 30, data: { host: 'db.example.com', password: 'pw', tls: true, ...extra } }, 'password', [{ tls: false }]);
  }
});

test('apply of an exported document whose URL was changed (ciphertext kept) is refused naming the item and field', async () => {
  const m = await send<Monitor>('POST', '/api/v1/monitors', { ...site('https://api.example.com/', { authorization: 'Bearer s3cret' }), name: 'exported' });
  const doc = YAML.parse(await (await w.call('/api/v1/config?format=yaml')).text()) as { monitors: { id: string; data: Record<string, unknown> }[] };
  const item = doc.monitors.find((x) => x.id === m.body.id)!;
  item.data.url = 'https://evil.example.net/';
  const res = await w.call('/api/v1/config', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: YAML.stringify(doc) });
  const body = (await res.json()) as ErrorBody;
  assert.is(res.status, 400);
  assert.is(body.error.code, 'CR_BAD_DOCUMENT');
  assert.match(body.error.message, /monitors\[\d+\] "exported": data\.headers .*send the secret again to send it somewhere new/);
  assert.is((await w.store.getMonitor(m.body.id))!.data.url, 'https://api.example.com/');
});

test('a read-only key sees configuration without the secrets; a read-write key sees "(secret)"; neither sees a ciphertext', async () => {
  const m = await send<Monitor>('POST', '/api/v1/monitors', { ...site('https://api.example.com/', { authorization: 'Bearer s3cret' }), name: 'shown' });
  const r = await send<Reaction>('POST', '/api/v1/reactions', { name: 'shown hook', rtype: 'webhook', data: { url: 'https://hooks.example.com/', headers: { 'x-key': 'k3y' } } });
  const get = async (path: string, key: string) => (await w.call(path, { key })).text();
  for (const path of ['/api/v1/monitors', `/api/v1/monitors/${m.body.id}`, '/api/v1/reactions', `/api/v1/reactions/${r.body.id}`, '/api/v1/config', '/api/v1/config?format=yaml']) {
    const asReader = await get(path, w.readKey);
    assert.not.match(asReader, /enc:v|\(secret\)|s3cret|k3y/, `${path} as a read-only key`);
    assert.not.match(asReader, /"?headers"?:/, `${path}: the field is left out`);
    const asWriter = await get(path, w.key);
    assert.not.match(asWriter, /s3cret|k3y/, path);
  }
  const one = JSON.parse(await get(`/api/v1/monitors/${m.body.id}`, w.readKey)) as Monitor;
  assert.equal(one.data, { url: 'https://api.example.com/' });
  const mine = JSON.parse(await get(`/api/v1/monitors/${m.body.id}`, w.key)) as Monitor;
  assert.equal(mine.data, { url: 'https://api.example.com/', headers: '(secret)' });
  const doc = JSON.parse(await get('/api/v1/config', w.readKey)) as { note: string };
  assert.match(doc.note, /left out: this API key is read-only/);
  assert.match(await get('/api/v1/config', w.key), /enc:v2:/, 'a read-write key exports the ciphertexts, for apply');
});

test('CLI: monitor edit and reaction edit keeping a secret for a new destination exit 2 naming the field; keeping it in place works', async () => {
  const add = await run('monitor', 'add', '--name', 'api', '--ctype', 'http-get-statuscode', '--interval', '10s', '--json', '--data', JSON.stringify({ url: 'https://api.example.com/', headers: { authorization: 'Bearer s3cret' } }));
  assert.is(add.code, 0, add.stderr);
  const id = (JSON.parse(add.stdout) as Monitor).id;
  const moved = await run('monitor', 'edit', id, '--data', JSON.stringify({ url: 'https://evil.example.net/', headers: '(secret)' }));
  assert.is(moved.code, 2, moved.stderr);
  assert.match(moved.stderr, /\[CR_SECRET_MOVED\]: data\.headers .*send the secret again to send it somewhere new/);
  const insecure = await run('monitor', 'edit', id, '--data', JSON.stringify({ url: 'https://api.example.com/', headers: '(secret)', tlsVerify: false }));
  assert.is(insecure.code, 2, insecure.stderr);
  assert.match(insecure.stderr, /\[CR_SECRET_MOVED\]: data\.headers is kept as stored but data\.tlsVerify would change from true to false/);
  const renamed = await run('monitor', 'edit', id, '--name', 'api renamed');
  assert.is(renamed.code, 0, renamed.stderr);

  const hook = await run('reaction', 'add', '--name', 'hook', '--rtype', 'webhook', '--json', '--data', JSON.stringify({ url: 'https://hooks.example.com/', headers: { 'x-key': 'k' } }));
  assert.is(hook.code, 0, hook.stderr);
  const rid = (JSON.parse(hook.stdout) as Reaction).id;
  const away = await run('reaction', 'edit', rid, '--data', JSON.stringify({ url: 'http://127.0.0.1:9/', headers: '(secret)' }));
  assert.is(away.code, 2, away.stderr);
  assert.match(away.stderr, /\[CR_SECRET_MOVED\]: data\.headers/);
});

/** A monitor as a store holds it after being written under another CLOUDROUTES_SECRET_KEY. */
const underAnotherKey = (id: string): Monitor => ({
  id, name: 'other key', ctype: 'http-get-statuscode', interval: 30, reactions: [], createdAt: 1, updatedAt: 1,
  data: { url: 'https://api.example.com/', headers: encryptValue(randomBytes(32), { authorization: 'Bearer s3cret' }, `monitor:${id}:headers:https://api.example.com`) },
});

test('a stored secret the server cannot decrypt (written under another key) answers 500 CR_SECRET_UNREADABLE saying what to do; sending it again mends it', async () => {
  const m = underAnotherKey('m-other-key');
  await w.store.putMonitor(m);
  const kept = await send<ErrorBody>('PUT', `/api/v1/monitors/${m.id}`, { ...site('https://api.example.com/', '(secret)'), name: 'renamed' });
  assert.is(kept.status, 500, 'the operator\'s key is at fault, not the request');
  assert.is(kept.body.error.code, 'CR_SECRET_UNREADABLE');
  assert.is(kept.body.error.field, 'data.headers');
  assert.match(kept.body.error.message, /data\.headers cannot be decrypted: .*run with the CLOUDROUTES_SECRET_KEY it was written with .*secrets rewrap --old-key-file.*or set the secret again/);
  assert.equal(await w.store.getMonitor(m.id), m, 'nothing was stored');
  // A ciphertext the request brings (here the stored one pasted into another monitor) is the request's fault.
  const pasted = await send<ErrorBody>('POST', '/api/v1/monitors', site('https://api.example.com/', m.data.headers));
  assert.is(pasted.status, 400);
  assert.is(pasted.body.error.code, 'CR_SECRET_FOREIGN');
  assert.is(pasted.body.error.field, 'data.headers');
  const again = await send<Monitor>('PUT', `/api/v1/monitors/${m.id}`, site('https://api.example.com/', { authorization: 'Bearer n3w' }));
  assert.is(again.status, 200, 'the secret given again is stored under the current key');
  assert.is((await send<Monitor>('PUT', `/api/v1/monitors/${m.id}`, { ...site('https://api.example.com/', '(secret)'), name: 'renamed' })).status, 200);
});

test('CLI: an edit that keeps a secret the CLI cannot decrypt exits 1 (not a usage error) with CR_SECRET_UNREADABLE', async () => {
  const store = new SqliteStore(join(dir, 'cr.db'));
  await store.init();
  await store.putMonitor(underAnotherKey('m-cli-other-key'));
  await store.close();
  const renamed = await run('monitor', 'edit', 'm-cli-other-key', '--name', 'renamed');
  assert.is(renamed.code, 1, renamed.stderr);
  assert.match(renamed.stderr, /\[CR_SECRET_UNREADABLE\]: data\.headers cannot be decrypted: .*or set the secret again/);
});

test.run();

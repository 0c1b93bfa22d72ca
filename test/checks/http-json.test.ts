import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { parsePath, valueAt } from '../../checks/http-json/index.js';
import { closedPort, ctx, httpPeer, job, selfSignedHttpsPeer, silentPeer, type Peer } from '../helpers/peers.js';

let mod: CheckModule;
let peer: Peer;
const doc = { data: { count: 7, ok: true, name: 'main', items: [{ status: 'up', tags: ['a', 'b'] }, { status: 'down' }], none: null } };
const seen: { method?: string; body: string; type?: string }[] = [];

test.before(async () => {
  mod = await checkLoader().load('http-json');
  peer = await httpPeer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, body, type: req.headers['content-type'] });
      if (req.url === '/html') return res.end('<html>not json</html>');
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/doc' });
        return res.end();
      }
      res.writeHead(req.url === '/error' ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/echo' ? { got: body } : doc));
    });
  });
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('http-json', { url: `${peer.url}/doc`, ...data }), ctx(ms));

test('meta declares a closed object schema with described fields', () => {
  assert.is(mod.meta.fields.additionalProperties, false);
  for (const [name, field] of Object.entries(mod.meta.fields.properties!)) assert.ok(field.description, `${name} has a description`);
});

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { url: 'http://a/' }), ['data.path is required', 'data.expected is required']);
  assert.match(validate(f, { url: 'http://a/', path: 'a..b', expected: 1 }).join(), 'data.path must match');
  assert.match(validate(f, { url: 'http://a/', path: 'a[x]', expected: 1 }).join(), 'data.path must match');
  assert.match(validate(f, { url: 'http://a/', path: 'a', expected: 1, op: 'like' }).join(), 'data.op must be one of');
  assert.match(validate(f, { url: 'http://a/', path: 'a', expected: 1, method: 'PUT' }).join(), 'data.method must be one of');
  assert.equal(validate(f, { url: 'http://a/', path: 'data.items[0].status', expected: 'up', op: 'ne', method: 'POST', body: '{}', tlsVerify: false }), []);
});

test('the path parser: names, indexes, nested indexes', () => {
  assert.equal(parsePath('data.items[0].status'), ['data', 'items', 0, 'status']);
  assert.equal(parsePath('m[1][2]'), ['m', 1, 2]);
  assert.equal(parsePath('a-b.c_d'), ['a-b', 'c_d']);
  assert.is(parsePath('a.'), undefined);
  assert.is(parsePath('[0]'), undefined);
  assert.equal(valueAt(doc, ['data', 'items', 1, 'status']), { found: true, value: 'down' });
  assert.equal(valueAt(doc, ['data', 'none']), { found: true, value: null });
  assert.equal(valueAt(doc, ['data', 'items', 5]), { found: false });
  assert.equal(valueAt(doc, ['data', 'count', 'x']), { found: false });
  assert.equal(valueAt(doc, ['data', 'toString']), { found: false });
});

test('eq on a nested value is healthy, naming path and value', async () => {
  const r = await run({ path: 'data.items[0].status', expected: 'up' });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, 'data.items[0].status is "up" (HTTP 200)');
  assert.ok(r.metrics!.waitMs! >= 0);
});

test('a different value fails naming the path, got and expected', async () => {
  const r = await run({ path: 'data.items[1].status', expected: 'up' });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'data.items[1].status: got "down", expected "up" (HTTP 200)');
});

test('operators: ne, lt, le, gt, ge, contains; strings match numbers and booleans by text', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ path: 'data.count', expected: 7 }, 'healthy'],
    [{ path: 'data.count', expected: '7' }, 'healthy'],
    [{ path: 'data.ok', expected: 'true' }, 'healthy'],
    [{ path: 'data.none', expected: null }, 'healthy'],
    [{ path: 'data.name', expected: 'other', op: 'ne' }, 'healthy'],
    [{ path: 'data.name', expected: 'main', op: 'ne' }, 'failed'],
    [{ path: 'data.count', expected: 10, op: 'lt' }, 'healthy'],
    [{ path: 'data.count', expected: 7, op: 'le' }, 'healthy'],
    [{ path: 'data.count', expected: '5', op: 'gt' }, 'healthy'],
    [{ path: 'data.count', expected: 8, op: 'ge' }, 'failed'],
    [{ path: 'data.name', expected: 'ai', op: 'contains' }, 'healthy'],
    [{ path: 'data.items[0].tags', expected: 'b', op: 'contains' }, 'healthy'],
    [{ path: 'data.items[0].tags', expected: 'c', op: 'contains' }, 'failed'],
    [{ path: 'data.items', expected: { status: 'down' }, op: 'contains' }, 'healthy'],
  ];
  for (const [data, want] of cases) assert.is((await run(data)).status, want, JSON.stringify(data));
  const r = await run({ path: 'data.count', expected: 8, op: 'ge' });
  assert.is(r.message, 'data.count: got 7, expected >= 8 (HTTP 200)');
  const nan = await run({ path: 'data.name', expected: 3, op: 'gt' });
  assert.is(nan.message, 'data.name: got "main", expected > 3 (gt needs numbers) (HTTP 200)');
});

test('a missing path fails naming it', async () => {
  const r = await run({ path: 'data.items[2].status', expected: 'up' });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'data.items[2].status does not exist in the response (HTTP 200)');
});

test('a body that is not JSON fails and says so', async () => {
  const r = await run({ url: `${peer.url}/html`, path: 'a', expected: 1 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^the response is not JSON \(HTTP 200\): /);
});

test('the status is reported, not judged', async () => {
  const r = await run({ url: `${peer.url}/error`, path: 'data.count', expected: 7 });
  assert.is(r.status, 'healthy');
  assert.is(r.message, 'data.count is 7 (HTTP 503)');
});

test('POST sends the body with its content type', async () => {
  seen.length = 0;
  const r = await run({ url: `${peer.url}/echo`, method: 'POST', body: '{"q":1}', path: 'got', expected: '{"q":1}' });
  assert.is(r.status, 'healthy', r.message);
  assert.equal(seen, [{ method: 'POST', body: '{"q":1}', type: 'application/json' }]);
});

test('followRedirects and tlsVerify reach the probe', async () => {
  assert.is((await run({ url: `${peer.url}/moved`, path: 'data.count', expected: 7 })).message!.startsWith('the response is not JSON (HTTP 302)'), true);
  assert.is((await run({ url: `${peer.url}/moved`, path: 'data.count', expected: 7, followRedirects: true })).status, 'healthy');
  const tls = await selfSignedHttpsPeer((_req, res) => res.end('{"a":[1]}'));
  try {
    assert.match((await run({ url: `${tls.url}/`, path: 'a[0]', expected: 1 })).message!, /^TLS error/);
    assert.is((await run({ url: `${tls.url}/`, path: 'a[0]', expected: 1, tlsVerify: false })).status, 'healthy');
  } finally {
    await tls.close();
  }
});

test('refused and timed-out requests fail with the reason', async () => {
  const port = await closedPort();
  assert.is((await run({ url: `http://127.0.0.1:${port}/`, path: 'a', expected: 1 })).message, `connection refused by 127.0.0.1:${port}`);
  const silent = await silentPeer();
  try {
    const r = await run({ url: `${silent.url}/`, path: 'a', expected: 1 }, 300);
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^timed out after \d+ ms/);
  } finally {
    await silent.close();
  }
});

test.run();

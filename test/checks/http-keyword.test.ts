import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { closedPort, ctx, httpPeer, job, silentPeer, until, type Peer } from '../helpers/peers.js';

let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  mod = await checkLoader().load('http-keyword');
  peer = await httpPeer((req, res) => {
    if (req.url === '/split') {
      // The keyword arrives in two separate TCP writes.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('status: all sys');
      setTimeout(() => res.end('tems operational'), 20);
    } else if (req.url === '/late') {
      res.writeHead(200);
      res.write(Buffer.alloc((1 << 20) + 10, 97));
      res.end('NEEDLE');
    } else if (req.url === '/error') {
      res.writeHead(500);
      res.end('Internal error: database down');
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>Welcome, café ok</body></html>');
    }
  });
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('http-keyword', data), ctx(ms));

test('meta declares a closed object schema with described fields', () => {
  assert.is(mod.meta.fields.additionalProperties, false);
  assert.equal(mod.meta.fields.required, ['url', 'keyword']);
  for (const [name, field] of Object.entries(mod.meta.fields.properties!)) assert.ok(field.description, `${name} has a description`);
});

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { url: 'http://a/' }), ['data.keyword is required']);
  assert.match(validate(f, { url: 'http://a/', keyword: '' }).join(), 'data.keyword must have at least 1 characters');
  assert.match(validate(f, { url: 'http://a/', keyword: 'x', present: 'yes' }).join(), 'data.present must be a boolean');
  assert.match(validate(f, { url: 'http://a/', keyword: 'x', headers: { a: false } }).join(), 'data.headers.a must be a string');
  assert.equal(validate(f, { url: 'http://a/', keyword: 'x', present: false, timeoutMs: 100 }), []);
});

test('keyword present: healthy when found (UTF-8), failed when not', async () => {
  const hit = await run({ url: `${peer.url}/`, keyword: 'café ok' });
  assert.is(hit.status, 'healthy', hit.message);
  assert.match(hit.message!, '"café ok" found (HTTP 200');
  assert.ok(hit.latencyMs! > 0);
  const miss = await run({ url: `${peer.url}/`, keyword: 'Goodbye' });
  assert.is(miss.status, 'failed');
  assert.match(miss.message!, '"Goodbye" not found');
});

test('the match is case-sensitive', async () => {
  assert.is((await run({ url: `${peer.url}/`, keyword: 'welcome' })).status, 'failed');
});

test('present false: healthy when absent, failed when found; the status code is reported, not judged', async () => {
  assert.is((await run({ url: `${peer.url}/error`, keyword: 'Welcome', present: false })).status, 'healthy');
  const r = await run({ url: `${peer.url}/error`, keyword: 'database down', present: false });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'HTTP 500');
});

test('a keyword split across chunks is found', async () => {
  assert.is((await run({ url: `${peer.url}/split`, keyword: 'all systems operational' })).status, 'healthy');
});

test('only the first 1 MiB of the body is searched', async () => {
  const r = await run({ url: `${peer.url}/late`, keyword: 'NEEDLE' });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'first 1 MiB');
  assert.is(r.metrics!.bytes, 1 << 20);
  await until(() => peer.open.size === 0);
});

test('network failures fail the check whatever present says', async () => {
  const port = await closedPort();
  const r = await run({ url: `http://127.0.0.1:${port}/`, keyword: 'x', present: false });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'connection refused');
});

test('a server that never answers is cut by the signal', async () => {
  const silent = await silentPeer();
  try {
    const started = Date.now();
    const r = await run({ url: `${silent.url}/`, keyword: 'x' }, 250);
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^timed out after \d+ ms waiting for the response/);
    assert.ok(Date.now() - started < 1500);
  } finally {
    await silent.close();
  }
});

test.run();

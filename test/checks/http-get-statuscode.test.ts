import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { recorder } from '../actions/_recorder.js';
import { blackhole, closedPort, ctx, httpPeer, job, selfSignedHttpsPeer, silentPeer, until, type Peer } from '../helpers/peers.js';

let mod: CheckModule;
let peer: Peer;
const seen: { method?: string; headers: Record<string, string | string[] | undefined> }[] = [];

test.before(async () => {
  mod = await checkLoader().load('http-get-statuscode');
  peer = await httpPeer((req, res) => {
    seen.push({ method: req.method, headers: req.headers });
    const status = Number(new URL(req.url!, 'http://x').searchParams.get('status') ?? 200);
    if (req.url!.startsWith('/big')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(3 << 20, 97));
      return;
    }
    if (req.url!.startsWith('/stall')) {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      return;
    }
    res.writeHead(status, status >= 300 && status < 400 ? { location: '/elsewhere' } : {});
    res.end(`status ${status}`);
  });
});

test.after(() => peer.close());

test('a redirect is judged as is by default and followed with followRedirects', async () => {
  const asIs = await run({ url: `${peer.url}/?status=302` });
  assert.is(asIs.status, 'failed');
  assert.match(asIs.message!, /got HTTP 302/);
  const followed = await run({ url: `${peer.url}/?status=302`, followRedirects: true });
  assert.is(followed.status, 'healthy', followed.message);
  assert.is(seen[seen.length - 1]!.method, 'GET');
});

test('followRedirects sends the monitor\'s headers to the URL\'s origin only: a redirect to another origin gets none', async () => {
  const other = await recorder(200, 'other');
  const first = await recorder();
  first.answerFor = (got) => got.url === '/same'
    ? { status: 302, body: '', headers: { location: '/landed' } }
    : got.url === '/away' ? { status: 302, body: '', headers: { location: `${other.peer.url}/stolen` } } : { status: 200, body: 'ok' };
  const headers = { authorization: 'Bearer s3cret', 'x-api-key': 'k3y' };
  try {
    const same = await run({ url: `${first.peer.url}/same`, followRedirects: true, headers });
    assert.is(same.status, 'healthy', same.message);
    const landed = first.received.find((r) => r.url === '/landed')!;
    assert.is(landed.headers.authorization, 'Bearer s3cret', 'a same-origin redirect keeps them');
    assert.is(landed.headers['x-api-key'], 'k3y');
    const away = await run({ url: `${first.peer.url}/away`, followRedirects: true, headers });
    assert.is(away.status, 'healthy', away.message);
    assert.is(first.received.find((r) => r.url === '/away')!.headers.authorization, 'Bearer s3cret');
    const stolen = other.received.find((r) => r.url === '/stolen');
    assert.ok(stolen, 'the redirect was followed');
    assert.is(stolen!.headers.authorization, undefined);
    assert.is(stolen!.headers['x-api-key'], undefined);
    assert.not.match(JSON.stringify(other.received), /s3cret|k3y/);
  } finally {
    await first.peer.close();
    await other.peer.close();
  }
});

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('http-get-statuscode', data), ctx(ms));

test('meta declares a closed object schema with described fields', () => {
  assert.is(mod.meta.fields.type, 'object');
  assert.is(mod.meta.fields.additionalProperties, false);
  assert.equal(mod.meta.fields.required, ['url']);
  for (const [name, field] of Object.entries(mod.meta.fields.properties!)) assert.ok(field.description, `${name} has a description`);
  assert.ok(mod.meta.description && mod.meta.description.length > 50);
});

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.url is required']);
  assert.match(validate(f, { url: 'ftp://example.com/' }).join(), /data\.url (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
  assert.match(validate(f, { url: 'http://a/', codes: ['abc'] }).join(), 'data.codes[0] must match');
  assert.match(validate(f, { url: 'http://a/', codes: '200' }).join(), 'data.codes must be an array');
  assert.match(validate(f, { url: 'http://a/', headers: { 'x-n': 1 } }).join(), 'data.headers.x-n must be a string');
  assert.match(validate(f, { url: 'http://a/', timeoutMs: 1.5 }).join(), 'data.timeoutMs must be an integer');
  assert.match(validate(f, { url: 'http://a/', colour: 'red' }).join(), 'data.colour is not a known field');
  assert.equal(validate(f, { url: 'https://a.example/x?y=1', codes: ['2xx', '301'], headers: { a: 'b' }, timeoutMs: 500 }), []);
});

test('200 with the default codes is healthy, with latency and phase metrics', async () => {
  const r = await run({ url: `${peer.url}/health` });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, 'HTTP 200');
  assert.ok(r.latencyMs! > 0);
  assert.ok(r.metrics!.connectMs! >= 0 && r.metrics!.waitMs! >= 0 && r.metrics!.transferMs! >= 0);
  assert.is(r.metrics!.bytes, 'status 200'.length);
  assert.is(r.metrics!.dnsMs, undefined, 'an IP address needs no lookup');
});

test('a status outside the codes fails, naming the status got and the codes expected', async () => {
  const r = await run({ url: `${peer.url}/?status=503`, codes: ['200', '204'] });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'got HTTP 503, expected 200 or 204');
  assert.ok(r.latencyMs! > 0);
});

test('patterns match a class of codes; redirects are not followed', async () => {
  assert.is((await run({ url: `${peer.url}/?status=204`, codes: ['2xx'] })).status, 'healthy');
  assert.is((await run({ url: `${peer.url}/?status=301`, codes: ['3xx'] })).status, 'healthy');
  const r = await run({ url: `${peer.url}/?status=302` });
  assert.is(r.message, 'got HTTP 302, expected 200');
});

test('each check opens a fresh connection, and the peer sees it closed once the response is read', async () => {
  const before = peer.connections;
  seen.length = 0;
  for (let i = 0; i < 3; i++) assert.is((await run({ url: `${peer.url}/` })).status, 'healthy');
  assert.is(peer.connections - before, 3);
  await until(() => peer.open.size === 0);
});

test('headers are sent; a default user-agent is added unless given', async () => {
  seen.length = 0;
  await run({ url: `${peer.url}/`, headers: { 'x-token': 'abc' } });
  await run({ url: `${peer.url}/`, headers: { 'User-Agent': 'mine' } });
  assert.is(seen[0]!.method, 'GET');
  assert.is(seen[0]!.headers['x-token'], 'abc');
  assert.match(String(seen[0]!.headers['user-agent']), 'CloudRoutes');
  assert.is(seen[1]!.headers['user-agent'], 'mine');
});

test('a body over 1 MiB is cut off after 1 MiB and the check still judges the status', async () => {
  const r = await run({ url: `${peer.url}/big` });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.bytes, 1 << 20);
  await until(() => peer.open.size === 0);
});

test('connection refused fails and says so', async () => {
  const port = await closedPort();
  const r = await run({ url: `http://127.0.0.1:${port}/` });
  assert.is(r.status, 'failed');
  assert.is(r.message, `connection refused by 127.0.0.1:${port}`);
});

test('a DNS failure fails and says so', async () => {
  const r = await run({ url: 'http://no-such-host.invalid/' });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^DNS lookup failed/);
  assert.ok(r.metrics!.dnsMs !== undefined || r.message!.includes('no-such-host.invalid'));
});

test('a server that never answers is cut by the signal, naming the phase', async () => {
  const silent = await silentPeer();
  try {
    const started = Date.now();
    const r = await run({ url: `${silent.url}/` }, 300);
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^timed out after \d+ ms waiting for the response from 127\.0\.0\.1:\d+$/);
    assert.ok(Date.now() - started < 1500);
    await until(() => silent.open.size === 0);
  } finally {
    await silent.close();
  }
});

test('data.timeoutMs cuts the check before the job deadline', async () => {
  const started = Date.now();
  const r = await run({ url: `${peer.url}/stall`, timeoutMs: 200 }, 5000);
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'reading the body');
  assert.ok(Date.now() - started < 1500);
});

test('a connect that never completes is cut and reported as connecting', async () => {
  const hole = await blackhole();
  try {
    const r = await run({ url: `http://127.0.0.1:${hole.port}/` }, 300);
    assert.is(r.status, 'failed');
    assert.match(r.message!, `connecting to 127.0.0.1:${hole.port}`);
  } finally {
    hole.close();
  }
});

test('an untrusted TLS certificate fails with a TLS error (the handshake is verified every time)', async () => {
  const tls = await selfSignedHttpsPeer((_req, res) => res.end('ok'));
  try {
    const r = await run({ url: `${tls.url}/` });
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^TLS error with 127\.0\.0\.1:\d+: .*self.signed/i);
    assert.ok(r.metrics!.connectMs! >= 0 && r.metrics!.tlsMs === undefined);
  } finally {
    await tls.close();
  }
});

test('a header undici refuses gives unknown (the check could not run), not a throw', async () => {
  const r = await run({ url: `${peer.url}/`, headers: { 'bad header': 'x' } });
  assert.is(r.status, 'unknown');
  assert.match(r.message!, 'invalid header key');
});

test('a URL the check cannot use gives unknown, naming the field', async () => {
  const r = await run({ url: 'not a url' });
  assert.is(r.status, 'unknown');
  assert.match(r.message!, 'data.url');
});

test.run();

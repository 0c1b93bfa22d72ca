import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { closedPort, ctx, httpPeer, job, selfSignedHttpsPeer, silentPeer, until, type Peer } from '../helpers/peers.js';

let mod: CheckModule;
let peer: Peer;
const seen: { method?: string; url?: string; headers: Record<string, string | string[] | undefined>; body: string }[] = [];

test.before(async () => {
  mod = await checkLoader().load('http-post');
  peer = await httpPeer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/hop') {
        const n = Number(u.searchParams.get('n'));
        res.writeHead(n > 0 ? 307 : 201, n > 0 ? { location: `/hop?n=${n - 1}` } : {});
        return res.end();
      }
      if (u.pathname === '/see-other') {
        res.writeHead(303, { location: '/done' });
        return res.end();
      }
      res.writeHead(Number(u.searchParams.get('status') ?? 200));
      res.end('ok');
    });
  });
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('http-post', data), ctx(ms));

test('meta declares a closed object schema with described fields', () => {
  assert.is(mod.meta.fields.additionalProperties, false);
  for (const [name, field] of Object.entries(mod.meta.fields.properties!)) assert.ok(field.description, `${name} has a description`);
  assert.ok(mod.meta.fields.properties!.headers!.secret);
});

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.url is required']);
  assert.match(validate(f, { url: 'http://a/', method: 'DELETE' }).join(), 'data.method');
  assert.match(validate(f, { url: 'http://a/', body: { a: 1 } }).join(), 'data.body must be a string');
  assert.match(validate(f, { url: 'http://a/', codes: ['abc'] }).join(), 'data.codes[0] must match');
  assert.match(validate(f, { url: 'http://a/', tlsVerify: 'no' }).join(), 'data.tlsVerify must be a boolean');
  assert.match(validate(f, { url: 'http://a/', followRedirects: 1 }).join(), 'data.followRedirects must be a boolean');
  assert.equal(validate(f, { url: 'http://a/', method: 'PUT', body: '{}', contentType: 'text/plain', codes: ['2xx'], followRedirects: true, tlsVerify: false }), []);
});

test('POSTs the body with a JSON content type by default; 200 is healthy', async () => {
  seen.length = 0;
  const r = await run({ url: `${peer.url}/api`, body: '{"a":1}', headers: { 'x-token': 't' } });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, 'HTTP 200');
  assert.is(seen[0]!.method, 'POST');
  assert.is(seen[0]!.body, '{"a":1}');
  assert.is(seen[0]!.headers['content-type'], 'application/json');
  assert.is(seen[0]!.headers['x-token'], 't');
  await until(() => peer.open.size === 0);
});

test('PUT and PATCH with another content type', async () => {
  seen.length = 0;
  assert.is((await run({ url: `${peer.url}/?status=204`, method: 'PUT', body: 'x=1', contentType: 'text/plain', codes: ['2xx'] })).status, 'healthy');
  assert.is((await run({ url: `${peer.url}/`, method: 'PATCH', body: 'y' })).status, 'healthy');
  assert.equal(seen.map((s) => [s.method, s.headers['content-type'], s.body]), [['PUT', 'text/plain', 'x=1'], ['PATCH', 'application/json', 'y']]);
});

test('a status outside the codes fails, naming both', async () => {
  const r = await run({ url: `${peer.url}/?status=500`, body: '{}', codes: ['201'] });
  assert.is(r.status, 'failed');
  assert.is(r.message, 'got HTTP 500, expected 201');
});

test('redirects: judged as is by default; followed (307 keeps the POST body, 303 turns into a GET) when asked, at most 5', async () => {
  assert.is((await run({ url: `${peer.url}/hop?n=2`, body: 'b' })).message, 'got HTTP 307, expected 200');
  seen.length = 0;
  const r = await run({ url: `${peer.url}/hop?n=2`, body: 'b', followRedirects: true, codes: ['201'] });
  assert.is(r.status, 'healthy', r.message);
  assert.equal(seen.map((s) => [s.method, s.url, s.body]), [['POST', '/hop?n=2', 'b'], ['POST', '/hop?n=1', 'b'], ['POST', '/hop?n=0', 'b']]);
  seen.length = 0;
  assert.is((await run({ url: `${peer.url}/see-other`, body: 'b', followRedirects: true })).status, 'healthy');
  assert.equal(seen.map((s) => [s.method, s.url, s.body]), [['POST', '/see-other', 'b'], ['GET', '/done', '']]);
  assert.is((await run({ url: `${peer.url}/hop?n=5`, followRedirects: true, codes: ['201'] })).status, 'healthy');
  const tooMany = await run({ url: `${peer.url}/hop?n=6`, followRedirects: true, codes: ['201'] });
  assert.is(tooMany.status, 'failed');
  assert.match(tooMany.message!, /^more than 5 redirects \(the last to http:\/\/127\.0\.0\.1:\d+\/hop\?n=0\)$/);
});

test('tlsVerify false accepts a self-signed certificate; the default refuses it', async () => {
  const tls = await selfSignedHttpsPeer((req, res) => req.resume().on('end', () => res.end('ok')));
  try {
    const refused = await run({ url: `${tls.url}/`, body: '{}' });
    assert.is(refused.status, 'failed');
    assert.match(refused.message!, /^TLS error/);
    const r = await run({ url: `${tls.url}/`, body: '{}', tlsVerify: false });
    assert.is(r.status, 'healthy', r.message);
    assert.ok(r.metrics!.tlsMs! >= 0);
  } finally {
    await tls.close();
  }
});

test('connection refused and a silent server fail with the reason', async () => {
  const port = await closedPort();
  const r = await run({ url: `http://127.0.0.1:${port}/`, body: '{}' });
  assert.is(r.message, `connection refused by 127.0.0.1:${port}`);
  const silent = await silentPeer();
  try {
    const t = await run({ url: `${silent.url}/`, body: '{}' }, 300);
    assert.is(t.status, 'failed');
    assert.match(t.message!, /^timed out after \d+ ms waiting for the response/);
  } finally {
    await silent.close();
  }
});

test.run();

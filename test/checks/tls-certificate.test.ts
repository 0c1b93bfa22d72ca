import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { closedPort, ctx, job, silentPeer } from '../helpers/peers.js';

const fixtures = join(process.cwd(), 'test/fixtures/tls');
const pair = (name: string) => ({ key: readFileSync(join(fixtures, `${name}.key`)), cert: readFileSync(join(fixtures, `${name}.crt`)) });

/** A certificate for localhost that expires in 5 days, made now (a committed one would soon be expired). */
function expiringPair(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'cr-tls-'));
  const [key, cert] = [join(dir, 'k.pem'), join(dir, 'c.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '5', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

const servers: Server[] = [];
async function tlsServer(opts: { key: Buffer; cert: Buffer }): Promise<number> {
  const server = createServer(opts, (socket) => socket.end());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

let mod: CheckModule;
let good: number;
let other: number;
let expiring: number;

test.before(async () => {
  mod = await checkLoader().load('tls-certificate');
  good = await tlsServer(pair('localhost'));
  other = await tlsServer(pair('other-host'));
  expiring = await tlsServer(expiringPair());
});

test.after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('tls-certificate', data), ctx(ms));

test('meta declares a closed object schema with described fields', () => {
  assert.is(mod.meta.fields.additionalProperties, false);
  for (const [name, field] of Object.entries(mod.meta.fields.properties!)) assert.ok(field.description, `${name} has a description`);
});

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.host is required']);
  assert.match(validate(f, { host: 'a', port: 70000 }).join(), 'data.port');
  assert.match(validate(f, { host: 'a', minDays: -1 }).join(), 'data.minDays');
  assert.match(validate(f, { host: 'a', allowUntrusted: 'yes' }).join(), 'data.allowUntrusted must be a boolean');
  assert.match(validate(f, { host: 'a', url: 'x' }).join(), 'data.url is not a known field');
  assert.equal(validate(f, { host: '127.0.0.1', port: 8443, servername: 'localhost', minDays: 30, allowUntrusted: true, timeoutMs: 1000 }), []);
});

test('a valid certificate for the name is healthy with allowUntrusted, naming the expiry date; daysLeft metric', async () => {
  const r = await run({ host: '127.0.0.1', port: good, servername: 'localhost', allowUntrusted: true });
  assert.is(r.status, 'healthy', r.message);
  assert.match(r.message!, /^certificate of 127\.0\.0\.1:\d+ valid until 20\d\d-\d\d-\d\d \d\d:\d\d UTC, \d+ days left, untrusted chain \(DEPTH_ZERO_SELF_SIGNED_CERT\) allowed$/);
  assert.ok(r.metrics!.daysLeft! > 3000);
  assert.ok(r.latencyMs! > 0);
});

test('the name is matched against IP SANs when there is no servername', async () => {
  assert.is((await run({ host: '127.0.0.1', port: good, allowUntrusted: true })).status, 'healthy');
});

test('an untrusted chain fails by default', async () => {
  const r = await run({ host: '127.0.0.1', port: good, servername: 'localhost' });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); set allowUntrusted to accept it');
});

test('a certificate for another host name fails naming the mismatch', async () => {
  const r = await run({ host: '127.0.0.1', port: other, servername: 'localhost', allowUntrusted: true });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /does not match localhost: .*other\.example/);
  assert.is((await run({ host: '127.0.0.1', port: other, servername: 'other.example', allowUntrusted: true })).status, 'healthy');
});

test('a certificate with 5 days left fails under the default 14, passes with minDays 3', async () => {
  const r = await run({ host: '127.0.0.1', port: expiring, servername: 'localhost', allowUntrusted: true });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /expires on \d{4}-\d\d-\d\d \d\d:\d\d UTC, in (4\.9\d?|5) days \(fewer than 14\)$/);
  assert.ok(r.metrics!.daysLeft! > 4.9 && r.metrics!.daysLeft! <= 5);
  assert.is((await run({ host: '127.0.0.1', port: expiring, servername: 'localhost', allowUntrusted: true, minDays: 3 })).status, 'healthy');
});

test('refused, timed-out and non-TLS peers fail with the reason', async () => {
  const port = await closedPort();
  assert.is((await run({ host: '127.0.0.1', port })).message, `connection refused by 127.0.0.1:${port}`);
  const silent = await silentPeer();
  try {
    const r = await run({ host: '127.0.0.1', port: silent.port, timeoutMs: 300 });
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^timed out after \d+ ms in the TLS handshake with 127\.0\.0\.1:\d+$/);
  } finally {
    await silent.close();
  }
});

test.run();

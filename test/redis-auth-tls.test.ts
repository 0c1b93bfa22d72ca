/** A production Redis with a password (and an ACL user) and with TLS from a private CA, reached by the CLI and the whole cluster. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, cliMonitorGoesHealthy, Proc } from './helpers/procs.js';
import { freePort, freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-redis-tls-'));
const password = 'p4ss-word';

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
function makeCerts(): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=cloudroutes test CA');
  ssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.ext'));
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

const certs = makeCerts();
const plain = new RedisServer({ password });
const tls = new RedisServer({ password, tls: certs });
let dev: Proc | undefined;
let target: Server;
const base = { CLOUDROUTES_STORE: '', CLOUDROUTES_SECRET_KEY: '', CLOUDROUTES_DATA_DIR: '', CLOUDROUTES_REDIS_CA_FILE: '', LOG_LEVEL: 'warn' };

test.before(async () => {
  await plain.start();
  await tls.start();
  target = createServer(() => undefined);
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
});
test.after(async () => {
  await dev?.kill('SIGKILL');
  target.close();
  await plain.stop();
  await tls.stop();
  rmSync(dir, { recursive: true, force: true });
});

const hostPort = (s: RedisServer) => `127.0.0.1:${s.port}`;

test('a Redis with requirepass: the CLI with redis://:password@ works; without the password or with a wrong one it says what to give', async () => {
  const ok = await cli(['status'], { ...base, REDIS_URL: plain.url }, dir);
  assert.is(ok.code, 0, ok.stderr);

  const none = await cli(['status'], { ...base, REDIS_URL: `redis://${hostPort(plain)}` }, dir);
  assert.is.not(none.code, 0);
  assert.match(none.stderr, /NOAUTH.*give REDIS_URL the password \(redis:\/\/:password@host:6379/);
  const wrong = await cli(['status'], { ...base, REDIS_URL: `redis://:nope@${hostPort(plain)}` }, dir);
  assert.is.not(wrong.code, 0);
  assert.match(wrong.stderr, /WRONGPASS.*give REDIS_URL the password/);
  assert.not.match(wrong.stderr, /nope/, 'the password given is not printed');
});

test('a Redis ACL user: redis://user:password@ works', async () => {
  const admin = plain.client();
  await admin.call('ACL', 'SETUSER', 'alice', 'on', '>alice-pw', '~*', '&*', '+@all');
  admin.disconnect();
  const ok = await cli(['status'], { ...base, REDIS_URL: `redis://alice:alice-pw@${hostPort(plain)}` }, dir);
  assert.is(ok.code, 0, ok.stderr);
});

test('a TLS-only Redis with a private CA: without CLOUDROUTES_REDIS_CA_FILE the CLI says the certificate is not trusted and what to set', async () => {
  const r = await cli(['status'], { ...base, REDIS_URL: tls.url }, dir);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /TLS certificate is not trusted; set CLOUDROUTES_REDIS_CA_FILE to the PEM file of the CA that signed it/);
  assert.not.match(r.stderr, new RegExp(password), 'the password is not printed');

  const missing = await cli(['status'], { ...base, REDIS_URL: tls.url, CLOUDROUTES_REDIS_CA_FILE: join(dir, 'nope.pem') }, dir);
  assert.is.not(missing.code, 0);
  assert.match(missing.stderr, /CLOUDROUTES_REDIS_CA_FILE=".*nope\.pem" is invalid: cannot read it \(ENOENT\)/);
});

test('the whole cluster (dev with REDIS_URL=rediss://:password@ and the CA file) checks a monitor over TLS', async () => {
  const env = {
    ...base, REDIS_URL: tls.url, CLOUDROUTES_REDIS_CA_FILE: certs.ca,
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_WEB_PORT: String(await freePort()),
  };
  dev = new Proc(['dev'], env, dir).start();
  await dev.waitFor('CloudRoutes is running', 15_000);
  assert.match(dev.output, new RegExp(`using Redis rediss://:\\*\\*\\*@${hostPort(tls)}`), 'the password is masked');
  const port = (target.address() as { port: number }).port;
  await cliMonitorGoesHealthy(env, dir, port, 10_000, 'status healthy through a TLS Redis');
  assert.is(await dev.kill('SIGINT'), 0);
  assert.not.match(dev.output, new RegExp(password), 'no process printed the password');
});

test.run();

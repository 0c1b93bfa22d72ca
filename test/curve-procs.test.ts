/** CURVE as an operator meets it: `keys generate`, a broker process that refuses plaintext on 0.0.0.0, and SIGHUP re-reading the allowed clients. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer, Push } from 'zeromq';
import { freePort, freePortRange, RedisServer } from './helpers/redis-server.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-curve-procs-'));
const redisServer = new RedisServer();
const procs: Proc[] = [];
let env: NodeJS.ProcessEnv;

test.before(async () => {
  await redisServer.start();
  env = { REDIS_URL: redisServer.url, CLOUDROUTES_DATA_DIR: join(dir, 'data'), CLOUDROUTES_ZONE: 'cp', CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)) };
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Written {
  publicKey: string;
  secretKeyFile: string;
  publicKeyFile: string;
}

const generate = async (name: string): Promise<Written> => {
  const r = await cli(['keys', 'generate', '--name', name, '--out', join(dir, 'keys'), '--json'], env);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Written;
};

test('keys generate writes a Z85 pair, the secret mode 0600, and refuses to overwrite without --force', async () => {
  const w = await generate('node-a');
  assert.is(w.secretKeyFile, join(dir, 'keys', 'node-a.key'));
  assert.is(w.publicKeyFile, join(dir, 'keys', 'node-a.pub'));
  assert.match(w.publicKey, /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/);
  assert.is(readFileSync(w.publicKeyFile, 'utf8').trim(), w.publicKey);
  assert.match(readFileSync(w.secretKeyFile, 'utf8').trim(), /^\S{40}$/);
  assert.is(statSync(w.secretKeyFile).mode & 0o777, 0o600);

  const again = await cli(['keys', 'generate', '--name', 'node-a', '--out', join(dir, 'keys')], env);
  assert.is(again.code, 2);
  assert.match(again.stderr, /CR_KEY_FILE_EXISTS.*node-a\.key already exists.*--force/);
  assert.is(readFileSync(w.publicKeyFile, 'utf8').trim(), w.publicKey, 'the refused run changed the pair');

  const forced = await cli(['keys', 'generate', '--name', 'node-a', '--out', join(dir, 'keys'), '--force'], env);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /secret key: .*node-a\.key/);
  assert.is.not(readFileSync(w.publicKeyFile, 'utf8').trim(), w.publicKey);
  assert.is(statSync(w.secretKeyFile).mode & 0o777, 0o600);
});

test('a broker on 0.0.0.0 without CURVE keys does not start and says how to make them', async () => {
  const r = await cli(['broker', '--bind', '0.0.0.0'], env);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /CR_PLAINTEXT_REFUSED.*0\.0\.0\.0 without CURVE.*cloudroutes keys generate.*CLOUDROUTES_CURVE_SECRET_KEY_FILE.*CLOUDROUTES_CURVE_CLIENTS.*--insecure-plaintext/);
});

test('--insecure-plaintext starts it anyway, with a warning', async () => {
  const broker = new Proc(['broker', '--bind', '0.0.0.0', '--insecure-plaintext'], env).start();
  procs.push(broker);
  await broker.waitFor('"broker listening"', 10_000);
  assert.match(broker.output, /INSECURE: the broker listens in plaintext on an address others can reach/);
  assert.is(await broker.kill(), 0);
});

test('a bad key setting stops the broker naming it', async () => {
  const r = await cli(['broker'], { ...env, CLOUDROUTES_CURVE_SECRET_KEY: 'not-a-key' });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /CR_BAD_CURVE_KEY.*CLOUDROUTES_CURVE_SECRET_KEY.*40-character Z85/);
});

test('SIGHUP re-reads the allowed clients: a key added to the file is accepted afterwards; refusals show in stats and /metrics', async () => {
  const broker = await generate('broker');
  const a = await generate('client-a');
  const b = await generate('client-b');
  const clients = join(dir, 'clients');
  writeFileSync(clients, `# allowed\n${a.publicKey}\n`);
  const ports = Number(env.CLOUDROUTES_BROKER_PORT_BASE);
  const metricsPort = await freePort();
  const proc = new Proc(['broker', '--bind', '0.0.0.0', '--metrics-port', String(metricsPort)],
    { ...env, CLOUDROUTES_CURVE_SECRET_KEY_FILE: broker.secretKeyFile, CLOUDROUTES_CURVE_PUBLIC_KEY_FILE: broker.publicKeyFile, CLOUDROUTES_CURVE_CLIENTS: clients }).start();
  procs.push(proc);
  await proc.waitFor('"broker listening"', 10_000);
  assert.match(proc.output, /"keys":1,"msg":"read the allowed client keys"/);

  const keyOf = (w: Written) => ({ curveServerKey: broker.publicKey, curvePublicKey: w.publicKey, curveSecretKey: readFileSync(w.secretKeyFile, 'utf8').trim() });
  const jobs = new Push({ ...keyOf(a), linger: 0 });
  jobs.connect(`tcp://127.0.0.1:${ports}`);
  const credit = JSON.stringify({ v: 1, type: 'credit', free: 10, received: 0 });
  const job = () => {
    const now = Date.now();
    return JSON.stringify({ v: 1, type: 'job', monitorId: 'm1', name: 'm1', ctype: 'tcp-check', data: {}, timeoutMs: 1000, zone: 'cp', due: now, sent: now, interval: 60 });
  };
  /** A worker with key `w`: asks for jobs and reports whether one came within `ms`. */
  const worker = async (w: Written, ms: number) => {
    const d = new Dealer({ ...keyOf(w), linger: 0, receiveTimeout: ms, sendTimeout: 200 });
    d.connect(`tcp://127.0.0.1:${ports + 1}`);
    let asking = true;
    const asker = (async () => {
      while (asking) {
        await d.send(credit).catch(() => undefined);
        await jobs.send(job());
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const got = await d.receive().then(() => true, () => false);
    asking = false;
    await asker;
    d.close();
    return got;
  };

  assert.is(await worker(b, 2000), false, 'client-b got a job before its key was allowed');
  await proc.waitFor('refused a client whose CURVE key is not in the allowed clients file');
  assert.ok(proc.output.includes(`"clientKey":"${b.publicKey}"`), 'the refusal names the key');

  appendFileSync(clients, `${b.publicKey} client-b, added later\n`);
  proc.child.kill('SIGHUP');
  await proc.waitFor('"keys":2,"msg":"read the allowed client keys"');
  assert.is(await worker(b, 5000), true, 'client-b got no job after SIGHUP');
  jobs.close();

  const stats = await waitFor(async () => {
    const r = await cli(['stats', '--json'], env);
    const s = JSON.parse(r.stdout) as { counters: Record<string, number> };
    return (s.counters['broker.auth_refused'] ?? 0) >= 1 ? s : null;
  }, 5000, 'broker.auth_refused in cloudroutes stats');
  assert.ok(stats.counters['broker.auth_refused']! >= 1);
  const text = await cli(['stats'], env);
  assert.match(text.stdout, /the broker refused \d+ connections \(a CURVE key not in its allowed clients file, or no CURVE\)/);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const refused = /^cloudroutes_broker_auth_refused_total (\d+)$/m.exec(metrics);
  assert.ok(refused && Number(refused[1]) >= 1, metrics.slice(0, 500));
  // A worker whose key the broker does not allow says so, and what to do, and exits 1 for its process manager to
  // start it again: ZeroMQ does not retry a refused handshake, and a worker without its broker must not look alive.
  const c = await generate('client-c');
  const w = new Proc(['worker'], { ...env, CLOUDROUTES_CURVE_SECRET_KEY_FILE: c.secretKeyFile, CLOUDROUTES_BROKER_PUBLIC_KEY: broker.publicKey }).start();
  procs.push(w);
  await w.waitFor("refused this process's CURVE key", 10_000);
  assert.ok(w.output.includes(`"publicKey":"${c.publicKey}"`), 'the line names the key to allow');
  assert.match(w.output, /"code":"CR_CURVE_REFUSED"/);
  const code = await new Promise<number | null>((r) => (w.child.exitCode !== null ? r(w.child.exitCode) : w.child.once('exit', r)));
  assert.is(code, 1, 'the refused worker exits 1');
  assert.is(await proc.kill(), 0);
});

test.run();

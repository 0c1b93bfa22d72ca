/** `npm start` runs `cloudroutes dev`: the whole cluster on embedded defaults, with its own redis-server. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliMonitorGoesHealthy, pidsWith, Proc } from './helpers/procs.js';
import { waitFor } from './helpers/cluster.js';
import { freePort, freePortRange } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-dev-'));
let env: NodeJS.ProcessEnv;
let dev: Proc | undefined;

test.before(async () => {
  env = { REDIS_URL: '', CLOUDROUTES_STORE: '', CLOUDROUTES_SECRET_KEY: '', CLOUDROUTES_DATA_DIR: '', CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_WEB_PORT: String(await freePort()), LOG_LEVEL: 'warn' };
});
test.after(async () => {
  await dev?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Every path under `root` with its permission bits. */
function modes(root: string): [string, number][] {
  const out: [string, number][] = [[root, lstatSync(root).mode & 0o777]];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (lstatSync(p).isDirectory()) out.push(...modes(p));
    else out.push([p, lstatSync(p).mode & 0o777]);
  }
  return out;
}

/** What a client that knows no password gets from a Redis port: the first reply line to PING. */
function anonymousPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      resolve(d.toString().trim());
      s.destroy();
    });
    s.once('error', reject);
  });
}

test('dev starts redis-server and every process, a CLI in another terminal finds it, Ctrl-C stops all', async () => {
  // A data folder left open to others by an earlier version, with a file in it.
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o755 });
  chmodSync(data, 0o755);
  writeFileSync(join(data, 'notes.txt'), 'x', { mode: 0o644 });
  chmodSync(join(data, 'notes.txt'), 0o644);
  dev = new Proc(['dev'], env, dir).start();
  await dev.waitFor('CloudRoutes is running', 15_000);
  assert.match(dev.output, /made .*data private to its owner \(folders 0700, files 0600; 2 entries changed\)/);
  assert.match(dev.output, /started redis-server redis:\/\/127\.0\.0\.1:\d+ \(data: .*data\/redis, append-only file on; password in .*data\/redis\.password\)/);
  const redisPort = Number(/started redis-server redis:\/\/127\.0\.0\.1:(\d+)/.exec(dev.output)![1]);
  assert.match(await anonymousPing(redisPort), /^-NOAUTH/, "dev's Redis refuses a client without the password");
  assert.match(dev.output, /store of record: sqlite:.*data\/cloudroutes\.db/);
  assert.match(dev.output, /processes: broker, bridge, control, worker, sink, web/);
  assert.match(dev.output, new RegExp(`web: http://127.0.0.1:${env.CLOUDROUTES_WEB_PORT}/`));
  assert.ok(existsSync(join(dir, 'data', 'secret.key')));
  // CURVE on by itself: the status below reaching healthy shows every process holds keys the broker accepts.
  assert.match(dev.output, /the broker's links are sealed with CURVE: keys in .*data\/keys/);
  for (const f of ['broker.key', 'local.key']) assert.is(statSync(join(dir, 'data', 'keys', f)).mode & 0o777, 0o600, f);
  assert.ok(readFileSync(join(dir, 'data', 'keys', 'clients'), 'utf8').includes(readFileSync(join(dir, 'data', 'keys', 'local.pub'), 'utf8').trim()));
  assert.match(dev.output, 'commands allowed: this worker and sink run execute-shell-command and ssh-command');

  const srv: Server = createServer(() => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await cliMonitorGoesHealthy(env, dir, port, 8000, 'status healthy through the dev cluster');
  srv.close();
  // The CLI in another terminal finds dev's Redis and sees each of its processes by its heartbeat.
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const seen = await cli(['cluster', '--json'], env, dir);
  assert.is(seen.code, 0, seen.stderr);
  const processes = (JSON.parse(seen.stdout) as { processes: { kind: string; state: string; version: string }[] }).processes;
  assert.equal(processes.map((p) => [p.kind, p.state, p.version]), ['control', 'broker', 'worker', 'sink', 'bridge', 'web'].map((k) => [k, 'live', version]));
  const ran = join(dir, 'ran-under-dev');
  const shell = await cli(['monitor', 'add', '--name', 'shell', '--ctype', 'execute-shell-command', '--interval', '1s', '--data', JSON.stringify({ command: `touch ${ran}` })], env, dir);
  assert.is(shell.code, 0, shell.stderr);
  await waitFor(() => existsSync(ran), 8000, "dev's worker running an execute-shell-command check");

  // Everything dev and its processes wrote is its owner's alone.
  const written = modes(data);
  for (const f of ['cloudroutes.db', 'cloudroutes.db-wal', 'cloudroutes.db-shm', 'secret.key', 'dev.json', 'redis.password', 'redis/redis.log', 'redis/appendonlydir']) {
    assert.ok(written.some(([p]) => p === join(data, f)), `${f} is there`);
  }
  assert.ok(written.some(([p]) => /appendonlydir\/.*\.aof$/.test(p)), 'an append-only file is there');
  for (const [p, mode] of written) assert.is(mode & 0o077, 0, `${p} is ${mode.toString(8)}: no group or other bits`);

  const code = await dev.kill('SIGINT');
  assert.is(code, 0);
  assert.match(dev.output, /stopped\n?$/);
  assert.not.ok(existsSync(join(dir, 'data', 'dev.json')), 'dev state removed');
  const password = readFileSync(join(data, 'redis.password'), 'utf8').trim();
  const after = await cli(['status'], { ...env, REDIS_URL: `redis://:${encodeURIComponent(password)}@127.0.0.1:${redisPort}` }, dir);
  assert.match(after.stderr, /unreachable|ECONNREFUSED/, after.stderr);
  assert.is(after.code, 1, 'its redis-server was stopped too');
});

/** Whether nothing listens on 127.0.0.1:`port`. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test("dev's redis-server stops when dev is killed with SIGKILL", async () => {
  const killed = new Proc(['dev'], { ...env, CLOUDROUTES_DATA_DIR: join(dir, 'killed') }, dir).start();
  try {
    await killed.waitFor('CloudRoutes is running', 15_000);
    const redisPort = Number(/started redis-server redis:\/\/127\.0\.0\.1:(\d+)/.exec(killed.output)![1]);
    const server = pidsWith(`127.0.0.1:${redisPort}`).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('redis-server'));
    assert.is(server.length, 1, 'one redis-server on that port');
    assert.is(await refused(redisPort), false);
    assert.is(await killed.kill('SIGKILL'), null);
    await waitFor(async () => await refused(redisPort), 5000, 'the port of the killed dev\'s redis-server to refuse connections');
    await waitFor(() => !existsSync(`/proc/${server[0]}`), 2000, 'the redis-server process to be gone');
  } finally {
    await killed.kill('SIGKILL');
  }
});

test('dev without Redis says how to get it', async () => {
  const r = await cli(['dev'], { ...env, PATH: '/nonexistent' }, dir);
  assert.is(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /no Redis: REDIS_URL is not set and no redis-server is on PATH; install Redis \(Debian: apt-get install redis-server\) or set REDIS_URL/);
});

test.run();

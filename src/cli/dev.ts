/** `cloudroutes dev`: the whole cluster on one machine on embedded defaults, restarted if a process dies. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devStatePath, loadSettings } from '../core/config.js';
import { secretKeyPath } from '../core/crypto.js';
import { errors } from '../core/errors.js';
import { prepareLocalCurve } from '../core/local-curve.js';
import { createRedis, redactRedisUrl } from '../core/redis.js';
import { devRedisPassword, devRedisPasswordPath, privateDataDir } from './dev-private.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const REDIS_GUARD = fileURLToPath(new URL('./redis-guard.js', import.meta.url));
const PROCESSES = ['broker', 'bridge', 'control', 'worker', 'sink', 'web'] as const;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForRedis(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = createRedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }, true);
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  throw errors.redisNoAnswer(redactRedisUrl(url), ms);
}

/** Starts the guard that stops this redis-server when dev ends, however it ends: it holds a pipe only dev writes. */
function guardRedis(port: number, password: string): void {
  const guard = spawn(process.execPath, [REDIS_GUARD], { stdio: ['pipe', 'ignore', 'inherit'] });
  guard.on('error', (err) => console.error(`the redis-server guard did not start (${err.message}): a dev killed with SIGKILL leaves redis-server running`));
  guard.stdin!.on('error', () => undefined);
  guard.stdin!.write(JSON.stringify({ port, password }) + '\n');
}

function alreadyRunning(dataDir: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(devStatePath(dataDir), 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Runs the cluster until SIGINT/SIGTERM. */
export async function runDev(): Promise<void> {
  const settings = loadSettings();
  const dataDir = settings.dataDir;
  const tightened = privateDataDir(dataDir);
  if (tightened) console.log(tightened);
  const other = alreadyRunning(dataDir);
  if (other) throw errors.badSetting('CLOUDROUTES_DATA_DIR', dataDir, `a dev cluster (pid ${other}) already runs on this data dir; stop it first`);

  if (!settings.secretKey && !existsSync(secretKeyPath(dataDir))) {
    writeFileSync(secretKeyPath(dataDir), randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    console.log(`created a secret key for encrypting monitor secrets: ${secretKeyPath(dataDir)} (keep it; or set CLOUDROUTES_SECRET_KEY)`);
  }

  let redisProc: ChildProcess | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    if (spawnSync('redis-server', ['--version']).error) throw errors.redisMissing();
    const port = await freePort();
    const dir = join(dataDir, 'redis');
    mkdirSync(dir, { recursive: true });
    // The password goes in on stdin (config "-"), not argv, where every local user could read it.
    const password = devRedisPassword(dataDir);
    redisProc = spawn('redis-server', ['-', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--logfile', join(dir, 'redis.log')], { stdio: ['pipe', 'ignore', 'ignore'] });
    redisProc.stdin!.end(`requirepass ${password}\n`);
    guardRedis(port, password);
    redisUrl = `redis://:${password}@127.0.0.1:${port}`;
    await waitForRedis(redisUrl, 10_000);
    console.log(`started redis-server redis://127.0.0.1:${port} (data: ${dir}, append-only file on; password in ${devRedisPasswordPath(dataDir)})`);
  } else {
    await waitForRedis(redisUrl, 10_000);
    console.log(`using Redis ${redactRedisUrl(redisUrl)}`);
  }
  writeFileSync(devStatePath(dataDir), JSON.stringify({ redisUrl, pid: process.pid, startedAt: new Date().toISOString() }) + '\n', { mode: 0o600 });

  // One machine, one operator: its worker and sink run modules that run commands, unless told CLOUDROUTES_ALLOW_COMMANDS=0.
  const allowCommands = process.env.CLOUDROUTES_ALLOW_COMMANDS !== '0';
  const env = { ...process.env, REDIS_URL: redisUrl, CLOUDROUTES_STORE: settings.store, CLOUDROUTES_DEV_PID: String(process.pid), CLOUDROUTES_ALLOW_COMMANDS: allowCommands ? '1' : '0' };
  const curve = prepareLocalCurve(dataDir);
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const launch = (name: string) => {
    const child = spawn(process.execPath, [MAIN, name], { env: { ...env, ...curve.envFor(name) }, stdio: ['ignore', 'inherit', 'inherit'] });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${name} exited (${signal ?? `code ${code}`}); restarting it in 1 s`);
      setTimeout(() => !stopping && launch(name), 1000);
    });
  };
  for (const name of PROCESSES) launch(name);
  console.log(`store of record: ${settings.store}`);
  console.log(`the broker's links are sealed with CURVE: keys in ${curve.dir} (allowed clients: ${curve.dir}/clients)`);
  console.log(allowCommands
    ? 'commands allowed: this worker and sink run execute-shell-command and ssh-command (a worker or sink started on its own needs --allow-commands)'
    : 'commands not allowed (CLOUDROUTES_ALLOW_COMMANDS=0): checks and reactions that run commands are refused');
  console.log(`broker ${settings.brokers.map((b) => b.host).join(', ')} ports ${Object.values(settings.ports).join(', ')}; processes: ${PROCESSES.join(', ')} (pids ${[...children.values()].map((c) => c.pid).join(', ')})`);
  console.log(`web: http://127.0.0.1:${process.env.CLOUDROUTES_WEB_PORT || 8080}/ (dashboard and API; create a key with "npx cloudroutes apikey create --name me")`);
  console.log('CloudRoutes is running. In another terminal: npx cloudroutes --help, npx cloudroutes status. Ctrl-C stops everything.');

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    await Promise.all([...children.values()].map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      c.once('exit', () => r());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 12_000).unref();
    })));
    if (redisProc && redisProc.exitCode === null) {
      await new Promise<void>((r) => {
        redisProc!.once('exit', () => r());
        redisProc!.kill('SIGTERM');
      });
    }
    rmSync(devStatePath(dataDir), { force: true });
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/** A process whose receive loop dies exits non-zero with a clear line, and `cloudroutes dev` restarts it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Push, Router } from 'zeromq';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePort, freePortRange, useRedis } from './helpers/redis-server.js';

const fx = useRedis(test);
const dir = mkdtempSync(join(tmpdir(), 'cr-dead-loop-'));
const procs: Proc[] = [];
test.after(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const exited = (p: Proc) => new Promise<number | null>((r) => (p.child.exitCode !== null ? r(p.child.exitCode) : p.child.once('exit', (code) => r(code))));
const now = () => Date.now();
const job = () => JSON.stringify({ v: 1, type: 'job', monitorId: 'm-1', name: 'n', ctype: 'tcp-check', data: {}, timeoutMs: 100, zone: 'default', due: now(), sent: now(), interval: 60 });

async function startProc(name: string, failpoint: string, base: number): Promise<Proc> {
  const p = new Proc([name], { REDIS_URL: fx.server.url, CLOUDROUTES_BROKER_PORT_BASE: String(base), CLOUDROUTES_FAILPOINTS: failpoint, CLOUDROUTES_DATA_DIR: dir }, dir).start();
  procs.push(p);
  await p.waitFor(`${name === 'broker' ? 'broker listening' : `${name} started`}`, 10_000);
  return p;
}

test('a worker whose receive loop dies exits 1 naming the loop, and sends no more credit', async () => {
  const base = await freePortRange(4);
  const broker = new Router();
  await broker.bind(`tcp://127.0.0.1:${base + 1}`);
  const worker = await startProc('worker', 'worker.receive', base);
  const [id] = await broker.receive();
  await broker.send([id!, job()]);
  assert.is(await exited(worker), 1);
  assert.match(worker.output, /"code":"CR_MAIN_LOOP_ENDED".*worker: its receive loop ended \(failpoint worker\.receive is on/);
  broker.close();
});

test('a sink whose receive loop dies exits 1', async () => {
  const base = await freePortRange(4);
  const sink = await startProc('sink', 'sink.receive', base);
  await fx.redis.xadd('cr:default:results', '*', 'r', JSON.stringify({ v: 1, type: 'result', monitorId: 'm-1', zone: 'default', status: 'failed', message: '', latencyMs: 1, due: now(), checkedAt: now() }));
  assert.is(await exited(sink), 1);
  assert.match(sink.output, /sink: its receive loop ended/);
});

test('a broker whose jobs loop dies exits 1', async () => {
  const base = await freePortRange(4);
  const broker = await startProc('broker', 'broker.jobs', base);
  const control = new Push();
  control.connect(`tcp://127.0.0.1:${base}`);
  await control.send(job());
  assert.is(await exited(broker), 1);
  assert.match(broker.output, /broker: its jobs loop ended/);
  control.close();
});

test('cloudroutes dev restarts a worker whose loop died', async () => {
  const env = {
    REDIS_URL: '', CLOUDROUTES_STORE: '', CLOUDROUTES_SECRET_KEY: '', CLOUDROUTES_DATA_DIR: join(dir, 'dev'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_WEB_PORT: String(await freePort()), LOG_LEVEL: 'warn',
  };
  const dev = new Proc(['dev'], { ...env, CLOUDROUTES_FAILPOINTS: 'worker.receive' }, dir).start();
  procs.push(dev);
  await dev.waitFor('CloudRoutes is running', 20_000);
  const add = await cli(['monitor', 'add', '--name', 'svc', '--ctype', 'tcp-check', '--interval', '1s', '--data', JSON.stringify({ host: '127.0.0.1', port: 1 })], env, dir);
  assert.is(add.code, 0, add.stderr);
  // Each new worker takes a job and dies again: two restarts show the first one was restarted and ran.
  await waitFor(() => (dev.output.match(/worker exited \(code 1\); restarting it in 1 s/g) ?? []).length >= 2, 20_000, 'the worker restarted after its loop died');
  assert.match(dev.output, /worker: its receive loop ended/);
  assert.is(await dev.kill('SIGINT'), 0);
});

test('the processes of a dev killed with SIGKILL stop by themselves', async () => {
  const env = {
    REDIS_URL: fx.server.url, CLOUDROUTES_STORE: '', CLOUDROUTES_SECRET_KEY: '', CLOUDROUTES_DATA_DIR: join(dir, 'dev-killed'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_WEB_PORT: String(await freePort()), LOG_LEVEL: 'warn',
  };
  const dev = new Proc(['dev'], env, dir).start();
  procs.push(dev);
  await dev.waitFor('CloudRoutes is running', 20_000);
  const pids = /\(pids ([\d, ]+)\)/.exec(dev.output)![1]!.split(', ').map(Number);
  assert.is(pids.length, 6);
  await dev.kill('SIGKILL');
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(() => pids.every((pid) => !alive(pid)), 15_000, 'every child of the killed dev to exit');
});

test.run();

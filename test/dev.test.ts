/** `npm start` runs `cloudroutes dev`: the whole cluster on embedded defaults, with its own redis-server. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
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

test('dev starts redis-server and every process, a CLI in another terminal finds it, Ctrl-C stops all', async () => {
  dev = new Proc(['dev'], env, dir).start();
  await dev.waitFor('CloudRoutes is running', 15_000);
  assert.match(dev.output, /started redis-server redis:\/\/127\.0\.0\.1:\d+ \(data: .*data\/redis, append-only file on\)/);
  assert.match(dev.output, /store of record: sqlite:.*data\/cloudroutes\.db/);
  assert.match(dev.output, /processes: broker, bridge, control, worker, sink, web/);
  assert.match(dev.output, new RegExp(`web: http://127.0.0.1:${env.CLOUDROUTES_WEB_PORT}/`));
  assert.ok(existsSync(join(dir, 'data', 'secret.key')));
  assert.match(dev.output, 'commands allowed: this worker and sink run execute-shell-command and ssh-command');

  const srv: Server = createServer(() => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const add = await cli(['monitor', 'add', '--name', 'svc', '--ctype', 'tcp-check', '--interval', '1s', '--data', JSON.stringify({ host: '127.0.0.1', port })], env, dir);
  assert.is(add.code, 0, add.stderr);
  await waitFor(async () => {
    const s = await cli(['status', '--json'], env, dir);
    return s.code === 0 && (JSON.parse(s.stdout) as { status: string }[])[0]?.status === 'healthy';
  }, 8000, 'status healthy through the dev cluster');
  srv.close();
  const ran = join(dir, 'ran-under-dev');
  const shell = await cli(['monitor', 'add', '--name', 'shell', '--ctype', 'execute-shell-command', '--interval', '1s', '--data', JSON.stringify({ command: `touch ${ran}` })], env, dir);
  assert.is(shell.code, 0, shell.stderr);
  await waitFor(() => existsSync(ran), 8000, "dev's worker running an execute-shell-command check");

  const code = await dev.kill('SIGINT');
  assert.is(code, 0);
  assert.match(dev.output, /stopped\n?$/);
  assert.not.ok(existsSync(join(dir, 'data', 'dev.json')), 'dev state removed');
  const redisUrl = /started redis-server (redis:\S+)/.exec(dev.output)![1]!;
  const after = await cli(['status'], { ...env, REDIS_URL: redisUrl }, dir);
  assert.is(after.code, 1, 'its redis-server was stopped too');
});

test('dev without Redis says how to get it', async () => {
  const r = await cli(['dev'], { ...env, PATH: '/nonexistent' }, dir);
  assert.is(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /no Redis: REDIS_URL is not set and no redis-server is on PATH; install Redis \(Debian: apt-get install redis-server\) or set REDIS_URL/);
});

test.run();

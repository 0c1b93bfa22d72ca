/** Under `cloudroutes dev` (links sealed with CURVE by default), a told monitor's result travels web -> broker -> sink. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePort, freePortRange } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-dev-told-'));
let dev: Proc | undefined;
test.after(async () => {
  // SIGINT first: dev stops its children, which would otherwise hold this file's output open.
  const stopped = dev?.kill('SIGINT');
  const late = setTimeout(() => void dev?.kill('SIGKILL'), 15_000);
  await stopped;
  clearTimeout(late);
  rmSync(dir, { recursive: true, force: true });
});

test('a heartbeat /fail sent to the dev web process is recorded by the sink within seconds', async () => {
  const port = await freePort();
  const env = {
    REDIS_URL: '', CLOUDROUTES_STORE: '', CLOUDROUTES_SECRET_KEY: '', CLOUDROUTES_DATA_DIR: '', CLOUDROUTES_WEB_URL: '',
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_WEB_PORT: String(port), LOG_LEVEL: 'warn',
  };
  dev = new Proc(['dev'], env, dir).start();
  await dev.waitFor('CloudRoutes is running', 20_000);
  assert.match(dev.output, /sealed with CURVE/);
  const add = await cli(['monitor', 'add', '--name', 'nightly', '--ctype', 'heartbeat', '--interval', '1h', '--json'], env, dir);
  assert.is(add.code, 0, add.stderr);
  const { id, failUrl } = JSON.parse(add.stdout) as { id: string; failUrl: string };
  const status = async () => {
    const s = await cli(['status', '--json'], env, dir);
    return (JSON.parse(s.stdout) as { id: string; status: string; message?: string }[]).find((m) => m.id === id);
  };
  // The bridge carries the new monitor to Redis first; then the web knows its token.
  await waitFor(async () => (await fetch(`${failUrl}?message=disk%20full`).catch(() => undefined))?.status === 200, 15_000, 'the web to take the fail ping');
  const row = await waitFor(async () => ((await status())?.status === 'failed' ? status() : null), 10_000, 'the failed result recorded by the sink');
  assert.ok(row);
  assert.is(await dev.kill('SIGINT'), 0);
});

test.run();

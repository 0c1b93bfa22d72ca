/** For a test file that runs a zone of real processes: its redis-server and a client, a port a tcp-check finds open, a folder, and the processes it starts, all stopped after the file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Test } from 'uvu';
import type { Proc } from './procs.js';
import { RedisServer } from './redis-server.js';

export interface ZoneFixture {
  server: RedisServer;
  redis: Redis;
  /** A port on 127.0.0.1 that accepts connections (and closes them at once). */
  targetPort: number;
  dir: string;
  /** Processes the file starts; killed with SIGKILL after it. */
  procs: Proc[];
}

export function useZoneFixture(suite: Test, name: string): ZoneFixture {
  const fx = { server: new RedisServer(), dir: mkdtempSync(join(tmpdir(), `cr-${name}-`)), procs: [] as Proc[], targetPort: 0 } as ZoneFixture;
  let target: Server;
  suite.before(async () => {
    await fx.server.start();
    fx.redis = fx.server.client();
    fx.redis.on('error', () => undefined); // a test may stop Redis on purpose
    target = createServer((s) => s.destroy());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    fx.targetPort = (target.address() as { port: number }).port;
  });
  suite.after(async () => {
    for (const p of fx.procs) await p.kill('SIGKILL');
    fx.redis.disconnect();
    await fx.server.stop();
    target.close();
    rmSync(fx.dir, { recursive: true, force: true });
  });
  return fx;
}

/** A throw-away redis-server for one bench run: free port, temp dir, no persistence. */
import { Redis } from 'ioredis';
import { defineScripts } from '../../src/core/redis.js';
import { startChild, type Child } from './children.js';
import { freePort } from './ports.js';

export interface BenchRedis {
  child: Child;
  url: string;
  client: Redis;
}

/** Starts redis-server in `dir` and returns a client with the project's Lua commands defined. */
export async function startRedis(dir: string): Promise<BenchRedis> {
  const port = await freePort();
  const child = startChild('redis-server', 'redis', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--logfile', `${dir}/redis.log`, '--protected-mode', 'no',
  ], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      const client = new Redis(url, { maxRetriesPerRequest: null });
      defineScripts(client);
      return { child, url, client };
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`redis-server did not answer on port ${port} within 5 s (is redis-server installed?)`);
}

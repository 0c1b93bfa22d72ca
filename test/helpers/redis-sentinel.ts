/** A real Redis master, its replica and three `redis-server --sentinel` processes watching them, on free ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, RedisServer } from './redis-server.js';

export const MASTER_NAME = 'crmaster';

export class SentinelGroup {
  readonly dir = mkdtempSync(join(tmpdir(), 'cr-sentinel-'));
  master!: RedisServer;
  replica!: RedisServer;
  readonly sentinelPorts: number[] = [];
  private readonly sentinels: ChildProcess[] = [];

  constructor(private readonly opts: { password?: string; downAfterMs?: number } = {}) {}

  /** redis+sentinel:// URL of the group, with the password when there is one. */
  get url(): string {
    const auth = this.opts.password ? `:${this.opts.password}@` : '';
    return `redis+sentinel://${auth}${this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}`;
  }

  async start(): Promise<this> {
    const password = this.opts.password;
    this.master = await new RedisServer({ password }).start();
    this.replica = await new RedisServer({ password, args: ['--replicaof', '127.0.0.1', String(this.master.port)] }).start();
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(this.dir, `sentinel-${port}.conf`);
      writeFileSync(conf, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${this.master.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${this.opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        ...(password ? [`sentinel auth-pass ${MASTER_NAME} ${password}`] : []),
        '',
      ].join('\n'));
      this.sentinels.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
      this.sentinelPorts.push(port);
    }
    await this.untilReady();
    return this;
  }

  private sentinel(port: number): Redis {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    return r;
  }

  /** What each sentinel answers for the master's address, port as a number (undefined where one does not answer). */
  async masterPorts(): Promise<(number | undefined)[]> {
    return Promise.all(this.sentinelPorts.map(async (port) => {
      const s = this.sentinel(port);
      try {
        await s.connect();
        const addr = (await s.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string] | null;
        return addr ? Number(addr[1]) : undefined;
      } catch {
        return undefined;
      } finally {
        s.disconnect();
      }
    }));
  }

  /** Until the replica is in sync and every sentinel knows the other two and the replica. */
  private async untilReady(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await Promise.all(this.sentinelPorts.map(async (port) => {
        const s = this.sentinel(port);
        try {
          await s.connect();
          const info = (await s.call('SENTINEL', 'master', MASTER_NAME)) as string[];
          const field = (k: string) => Number(info[info.indexOf(k) + 1]);
          return field('num-other-sentinels') === 2 && field('num-slaves') === 1;
        } catch {
          return false;
        } finally {
          s.disconnect();
        }
      }));
      const replica = this.replica.client();
      const link = /master_link_status:up/.test(await replica.info('replication').catch(() => ''));
      replica.disconnect();
      if (ready.every(Boolean) && link) return;
      if (Date.now() > deadline) throw new Error(`sentinels not ready after 20 s (ready: ${ready.join(',')}, replica link up: ${link})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sentinels) if (s.exitCode === null) s.kill('SIGKILL');
    await this.master.stop();
    await this.replica.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

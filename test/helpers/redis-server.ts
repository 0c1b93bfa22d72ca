/** Starts a real redis-server on a free port for one test file; it can be stopped and restarted for fault tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Test } from 'uvu';
import { defineScripts } from '../../src/core/redis.js';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A password the server asks for, and TLS only (PEM files: its certificate and key, and the CA that clients trust). */
export interface RedisServerOptions {
  password?: string;
  tls?: { cert: string; key: string; ca: string };
  /** More arguments for redis-server (`--replicaof host port`, say). */
  args?: string[];
  /** Addresses to listen on (default 127.0.0.1 only), e.g. a bridge's address that network namespaces reach. */
  bind?: string[];
}

export class RedisServer {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'cr-redis-'));
  port = 0;

  constructor(private readonly opts: RedisServerOptions = {}) {}

  /** The URL with the password, if any. */
  get url(): string {
    return this.urlFor('127.0.0.1');
  }

  /** The URL by another of its addresses (one of `bind`). */
  urlFor(host: string): string {
    const { password, tls } = this.opts;
    return `${tls ? 'rediss' : 'redis'}://${password ? `:${password}@` : ''}${host}:${this.port}`;
  }

  private get clientOptions(): RedisOptions {
    return this.opts.tls ? { tls: { ca: readFileSync(this.opts.tls.ca) } } : {};
  }

  private get args(): string[] {
    const { password, tls } = this.opts;
    const port = tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no']
      : ['--port', String(this.port)];
    return [...port, ...(password ? ['--requirepass', password, '--masterauth', password] : []), ...(this.opts.args ?? [])];
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    this.proc = spawn('redis-server', [...this.args, '--bind', ...(this.opts.bind ?? ['127.0.0.1']), '--dir', this.dir, '--appendonly', 'yes', '--save', ''], {
      stdio: 'ignore',
    });
    const client = new Redis(this.url, { ...this.clientOptions, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return this;
      } catch {
        client.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** A client with the project's Lua scripts defined. */
  client(): Redis {
    const r = new Redis(this.url, { ...this.clientOptions, maxRetriesPerRequest: null });
    defineScripts(r);
    return r;
  }

  /** Kills the server (SIGKILL), keeping its data dir for a restart. */
  async kill(): Promise<void> {
    const p = this.proc;
    // A process ended by a signal keeps exitCode null: signalCode says it is gone too.
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first of `n` consecutive free ports (for CLOUDROUTES_BROKER_PORT_BASE). */
export async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

/** A redis-server and a client for one test file, started before its tests and stopped after. */
export interface RedisFixture {
  server: RedisServer;
  redis: Redis;
}

/** Registers before/after hooks on `suite`; with `flush`, the database is emptied before each test. */
export function useRedis(suite: Test, flush = false): RedisFixture {
  const fx = { server: new RedisServer() } as RedisFixture;
  suite.before(async () => {
    await fx.server.start();
    fx.redis = fx.server.client();
  });
  suite.after(async () => {
    fx.redis.disconnect();
    await fx.server.stop();
  });
  if (flush) suite.before.each(async () => void (await fx.redis.flushall()));
  return fx;
}

/** Starts broker, control, worker and sink in this process on free ports, with real ZeroMQ sockets and a real Redis. */
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { startBroker, type Broker } from '../../src/broker/broker.js';
import type { BrokerPorts } from '../../src/core/config.js';
import type { BrokerCurve } from '../../src/broker/auth.js';
import { keys } from '../../src/core/keys.js';
import { startHeartbeat, type Heartbeat } from '../../src/core/heartbeat.js';
import type { CurveClient } from '../../src/core/socket-options.js';
import { connectRedis } from '../../src/core/redis.js';
import type { Monitor, Reaction } from '../../src/core/types.js';
import { startControl, type Control } from '../../src/control/control.js';
import { startSink, type Sink } from '../../src/sink/sink.js';
import { startWorker, type Worker } from '../../src/worker/worker.js';
import { freePort } from './redis-server.js';

export const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function freePorts(): Promise<BrokerPorts> {
  return { jobsIn: await freePort(), workers: await freePort() };
}

export interface ClusterOptions {
  redisUrl: string;
  zone: string;
  checksPath?: string[];
  actionsPath?: string[];
  reactionTimeoutMs?: number;
  concurrency?: number;
  secretKey?: Buffer;
  /** CURVE on every link: the broker's pair and allowed clients file, and the pair its control, worker and sink use. */
  curve?: { broker: BrokerCurve; client: CurveClient };
  /** The worker and sink run modules that run commands (--allow-commands). */
  allowCommands?: boolean;
  /** Each component sends its heartbeat, as its own process would (`cloudroutes cluster`, /health). */
  heartbeats?: boolean;
}

export class Cluster {
  broker?: Broker;
  control?: Control;
  worker?: Worker;
  sink?: Sink;
  ports!: BrokerPorts;
  readonly redis: Redis[] = [];
  readonly heartbeats: Heartbeat[] = [];

  constructor(readonly opts: ClusterOptions) {}

  url(port: number): string {
    return `tcp://127.0.0.1:${port}`;
  }

  private conn(): Redis {
    const r = connectRedis(this.opts.redisUrl, silent);
    this.redis.push(r);
    return r;
  }

  async start(): Promise<this> {
    this.ports ??= await freePorts();
    await this.startBroker();
    await this.startWorker();
    await this.startSink();
    await this.startControl();
    if (this.opts.heartbeats) {
      const redis = this.conn();
      for (const kind of ['broker', 'worker', 'sink', 'control'] as const) this.heartbeats.push(startHeartbeat({ redis, zone: this.opts.zone, kind, logger: silent }));
    }
    return this;
  }

  async startBroker(): Promise<void> {
    this.broker = await startBroker({ bind: '127.0.0.1', ports: this.ports, logger: silent, zone: this.opts.zone, redis: this.conn(), curve: this.opts.curve?.broker });
  }

  async startWorker(): Promise<void> {
    this.worker = await startWorker({
      jobs: this.url(this.ports.workers), zone: this.opts.zone, logger: silent,
      redis: this.conn(), checksPath: this.opts.checksPath, concurrency: this.opts.concurrency, secretKey: this.opts.secretKey,
      curve: this.opts.curve?.client,
      allowCommands: this.opts.allowCommands,
    });
  }

  async startSink(): Promise<void> {
    this.sink = await startSink({
      redis: this.conn(), zone: this.opts.zone, logger: silent,
      actionsPath: this.opts.actionsPath, reactionTimeoutMs: this.opts.reactionTimeoutMs, secretKey: this.opts.secretKey,
      allowCommands: this.opts.allowCommands,
    });
  }

  async startControl(): Promise<void> {
    this.control = await startControl({ redis: this.conn(), zone: this.opts.zone, brokers: [this.url(this.ports.jobsIn)], logger: silent, curve: this.opts.curve?.client });
  }

  async stop(): Promise<void> {
    for (const h of this.heartbeats.splice(0)) await h.stop();
    await this.control?.stop();
    await this.worker?.stop();
    await this.sink?.stop();
    await this.broker?.stop();
    for (const r of this.redis) r.disconnect();
  }
}

/** Puts a monitor into the zone's Redis as the bridge would, due `dueInMs` from now. */
export async function putMonitor(redis: Redis, zone: string, m: Partial<Monitor> & Pick<Monitor, 'id' | 'ctype' | 'data'>, dueInMs = 0): Promise<Monitor> {
  const monitor: Monitor = { name: m.id, interval: 1, reactions: [], createdAt: Date.now(), updatedAt: Date.now(), ...m };
  const k = keys(zone);
  await redis.applyMonitor(k.monitor(monitor.id), k.intervals, k.monitors, k.schedule, k.state(monitor.id), monitor.id, JSON.stringify(monitor), monitor.interval * 1000, Date.now(), dueInMs);
  return monitor;
}

/** Puts a reaction into the zone's Redis as the bridge would. */
export async function putReaction(redis: Redis, zone: string, r: Partial<Reaction> & Pick<Reaction, 'id' | 'rtype' | 'data'>): Promise<Reaction> {
  const reaction: Reaction = { name: r.id, trigger: 1, frequency: 0, callOn: 'failed', once: false, createdAt: 0, updatedAt: 0, ...r };
  await redis.set(keys(zone).reaction(reaction.id), JSON.stringify(reaction));
  return reaction;
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function waitFor<T>(fn: () => Promise<T> | T, ms = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads, in order, the results that workers (or the web) add to the zone's results stream, as a sink would see them. */
export function resultTap(redis: Redis, zone: string): { next(ms?: number): Promise<Record<string, unknown>>; raw(ms?: number): Promise<string> } {
  let last = '0-0';
  const lines: string[] = []; // an entry carries one result per line
  const raw = async (ms = 5000) => {
    if (lines.length === 0) {
      const [entry] = await waitFor(async () => {
        const got = await redis.xrange(keys(zone).results, `(${last}`, '+', 'COUNT', 1);
        return got.length > 0 ? got : null;
      }, ms, 'a result in the results stream');
      last = entry![0];
      const fields = entry![1];
      lines.push(...fields[fields.indexOf('r') + 1]!.split('\n'));
    }
    return lines.shift()!;
  };
  return { raw, next: async (ms) => JSON.parse(await raw(ms)) as Record<string, unknown> };
}

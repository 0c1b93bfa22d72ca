/** Starts the monitoring path as the Procfile runs it: one `node dist/src/cli/main.js <process>` per process. */
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { prepareLocalCurve } from '../../src/core/local-curve.js';
import { startChild, type Child } from './children.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** LOG_LEVEL of every CloudRoutes process the bench starts. */
export const BENCH_LOG_LEVEL = 'warn';

export interface ClusterOptions {
  redisUrl: string;
  zone: string;
  /** Each broker's port base (two ports each); controls, workers and sinks are given them all. */
  brokerPortBases: number[];
  workers: number;
  sinks: number;
  /** Worker concurrency (CLOUDROUTES_WORKER_CONCURRENCY); the worker's own default when undefined. */
  concurrency: number | undefined;
  /** Where each process writes its log (stdout and stderr). */
  logDir: string;
  /** Run each process with --cpu-prof into this folder. */
  cpuProfDir: string | undefined;
  /** Seal the links with CURVE (keys made under logDir/keys, as `cloudroutes dev` does). */
  curve: boolean;
}

/** Spawns the brokers, control, workers and sinks; returns them in that order. */
export function startCluster(o: ClusterOptions): Child[] {
  const brokers = o.brokerPortBases.length === 1 ? ['broker'] : o.brokerPortBases.map((_, i) => `broker-${i + 1}`);
  const names = [...brokers, 'control', ...Array.from({ length: o.workers }, (_, i) => `worker-${i + 1}`), ...Array.from({ length: o.sinks }, (_, i) => `sink-${i + 1}`)];
  return names.map((name) => {
    const own = name.startsWith('broker') ? { CLOUDROUTES_BROKER_PORT_BASE: String(o.brokerPortBases[Math.max(0, brokers.indexOf(name))]) } : {};
    return startProcess(name, o, own);
  });
}

/** Spawns the bridge, which keeps Redis equal to `store` and drains history and events into it. */
export function startBridgeProcess(o: ClusterOptions, store: string): Child {
  return startProcess('bridge', o, { CLOUDROUTES_STORE: store });
}

function startProcess(name: string, o: ClusterOptions, own: NodeJS.ProcessEnv): Child {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: o.redisUrl,
    CLOUDROUTES_ZONE: o.zone,
    CLOUDROUTES_BROKER: o.brokerPortBases.map((b) => `127.0.0.1:${b}`).join(','),
    CLOUDROUTES_DATA_DIR: o.logDir,
    LOG_LEVEL: BENCH_LOG_LEVEL,
  };
  if (o.concurrency !== undefined) env.CLOUDROUTES_WORKER_CONCURRENCY = String(o.concurrency);
  const kind = name.replace(/-\d+$/, '');
  const curve = o.curve ? prepareLocalCurve(o.logDir).envFor(kind) : undefined;
  const log = openSync(join(o.logDir, `${name}.log`), 'a');
  const flags = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  return startChild(name, 'cloudroutes', process.execPath, [...flags, MAIN, kind], { env: { ...env, ...curve, ...own }, stdio: ['ignore', log, log] });
}

/** Waits until `count` clients besides the caller are connected to Redis (every process opens one connection). */
export async function waitForClients(redis: Redis, count: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const list = (await redis.client('LIST')) as string;
    const others = list.split('\n').filter((l) => l.trim()).length - 1;
    if (others >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${others} of ${count} CloudRoutes processes connected to Redis within ${ms} ms; see their logs`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

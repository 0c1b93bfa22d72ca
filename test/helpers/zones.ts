/** For a test file that runs several zones of real processes sharing one store of record: each zone its own redis-server, broker, bridge, control, worker and sink. */
import type { Redis } from 'ioredis';
import type { Test } from 'uvu';
import { Proc } from './procs.js';
import { freePortRange, RedisServer } from './redis-server.js';

export interface Zones<Z extends string> {
  redis: Record<Z, Redis>;
  /** Each zone's environment, for its processes and for the CLI run against it. */
  envs: Record<Z, NodeJS.ProcessEnv>;
  procs: Proc[];
}

/**
 * Starts zones `names` before the suite's tests and stops them after. `env` gives a zone's settings beyond its Redis,
 * zone name and broker ports (the shared CLOUDROUTES_STORE among them); it is called in the suite's before hook, so a
 * hook registered earlier can prepare the store.
 */
export function useZones<Z extends string>(suite: Test, names: readonly Z[], env: (zone: Z) => NodeJS.ProcessEnv): Zones<Z> {
  const servers = Object.fromEntries(names.map((z) => [z, new RedisServer()])) as Record<Z, RedisServer>;
  const zones: Zones<Z> = { redis: {} as Record<Z, Redis>, envs: {} as Record<Z, NodeJS.ProcessEnv>, procs: [] };
  suite.before(async () => {
    for (const zone of names) {
      await servers[zone].start();
      zones.redis[zone] = servers[zone].client();
      zones.envs[zone] = { REDIS_URL: servers[zone].url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), ...env(zone) };
      for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) zones.procs.push(new Proc([name], zones.envs[zone]).start());
    }
    await Promise.all(zones.procs.map((p) => p.waitFor(/"(broker listening|\w+ started)"/)));
  });
  suite.after(async () => {
    await Promise.all(zones.procs.map((p) => p.kill()));
    for (const zone of names) {
      zones.redis[zone]?.disconnect();
      await servers[zone].stop();
    }
  });
  return zones;
}

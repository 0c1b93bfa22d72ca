/**
 * A process's heartbeat: every few seconds it upserts its entry (kind, id, host, pid, version, concurrency) in its zone's
 * processes on the Redis clock (lua/heartbeat-2.lua), so that every process and `cloudroutes cluster` know which are alive.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { durationSettingMs } from './duration.js';
import { keys } from './keys.js';
import { GONE_AFTER_BEATS, type ProcessEntry, type ProcessKind } from './processes.js';
import { settleWithin } from './time.js';
import { VERSION } from './version.js';

/** Entries not seen for a day are removed by the next heartbeat of the zone. */
const PRUNE_AFTER_MS = 86_400_000;
const REMOVE_WITHIN_MS = 1000;
let lastStart = 0;

export interface HeartbeatOptions {
  /** A connection of its own: one shared with blocking reads or long pipelines would delay the beats. */
  redis: Redis;
  zone: string;
  kind: ProcessKind;
  logger: Logger;
  concurrency?: number;
  /** Default: CLOUDROUTES_HEARTBEAT_INTERVAL, else 5 s. */
  intervalMs?: number;
}

export interface Heartbeat {
  readonly id: string;
  /** Stops beating and leaves the entry, which turns gone (a process whose main loop ended). */
  halt(): void;
  /** Stops beating and removes the entry (a clean shutdown); gives up after a second when Redis does not answer. */
  stop(): Promise<void>;
}

/** How often processes beat, from CLOUDROUTES_HEARTBEAT_INTERVAL (a duration: 5s, 500ms), default 5 s. */
export function heartbeatIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  return durationSettingMs('CLOUDROUTES_HEARTBEAT_INTERVAL', 5000, 100, 3_600_000, env);
}

/** Sends the first heartbeat now and one every interval until halted or stopped. */
export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const { redis, logger } = opts;
  const k = keys(opts.zone);
  const intervalMs = opts.intervalMs ?? heartbeatIntervalMs();
  const host = hostname();
  // Strictly increasing, so that components run in one process (tests, embedding) each have their own id.
  lastStart = Math.max(Date.now(), lastStart + 1);
  const id = `${host}:${process.pid}:${lastStart}`;
  const entry: Omit<ProcessEntry, 'started'> = {
    kind: opts.kind, id, host, pid: process.pid, version: VERSION, intervalMs,
    ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
  };
  const json = JSON.stringify(entry);
  let first = true;
  let pending: Promise<unknown> | undefined;
  let failing = false;
  let halted = false;

  const beat = () => {
    // While Redis is down a beat waits in the connection's queue; one is enough.
    if (pending || halted) return;
    pending = redis.heartbeat(k.processes, k.processesSeen, id, json, PRUNE_AFTER_MS, first ? '1' : '0', GONE_AFTER_BEATS).then(
      () => {
        first = false;
        if (failing) logger.info({ process: id }, 'heartbeat written again');
        failing = false;
      },
      (err: Error) => {
        if (!failing) logger.warn({ process: id, err: err.message }, 'heartbeat not written; this process will show as gone until it is');
        failing = true;
      },
    ).finally(() => (pending = undefined));
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  logger.info({ process: id, kind: opts.kind, version: VERSION, intervalMs }, 'heartbeat started');

  const halt = () => {
    halted = true;
    clearInterval(timer);
  };
  return {
    id,
    halt,
    async stop() {
      halt();
      // A beat still in flight would add the entry back after its removal.
      if (pending) await settleWithin(pending, REMOVE_WITHIN_MS);
      await settleWithin(redis.multi().hdel(k.processes, id).zrem(k.processesSeen, id).exec(), REMOVE_WITHIN_MS);
    },
  };
}

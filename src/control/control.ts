/** The control: pops due monitors from the schedule, re-schedules them atomically and sends one job per monitor. */
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { Counters } from '../core/counters.js';
import { keys, lagKey } from '../core/keys.js';
import { LagRecorder } from '../core/lag-recorder.js';
import { LogThrottle } from '../core/log-throttle.js';
import { controlMetrics } from '../core/metrics-process.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../core/limits.js';
import { checkFields, checkJobData, jobOf, type BadMessage } from '../core/messages.js';
import type { Monitor } from '../core/types.js';
import { RedisClock } from '../core/redis-clock.js';
import { supervise, type LoopEnded } from '../core/main-loop.js';
import type { CurveClient } from '../core/socket-options.js';
import { HeldSlots } from './held-slots.js';
import { JobLinks } from './job-links.js';
import type { SentSlot } from './sent-log.js';

export interface ControlOptions {
  redis: Redis;
  zone: string;
  /** Broker endpoints (tcp://host:port) to push jobs to; jobs are spread over them. */
  brokers: string[];
  logger: Logger;
  /** Most monitors popped per round trip. */
  batch?: number;
  /**
   * Longest sleep between rounds (default 5 s). The control sleeps until the next slot it knows of; a slot given to a
   * new or changed monitor is announced (applyMonitor-4.lua) and wakes it, so this only bounds what a lost announcement costs.
   */
  maxSleepMs?: number;
  /** Default check timeout when the monitor's data has no timeoutMs. */
  defaultTimeoutMs?: number;
  /** Registry of this process's /metrics (--metrics-port): schedule lag and counters. */
  metrics?: Registry;
  /** Called when the schedule loop ends while the control runs (default: the process's handler, which exits). */
  onLoopEnded?: LoopEnded;
  /** CURVE: the broker's public key and this process's pair (plaintext when undefined). */
  curve?: CurveClient;
}

export interface Control {
  counters: Counters;
  stop(): Promise<void>;
}

/**
 * Pause between two rounds that were not full. At 250 checks a second a round costs the control, Redis, the broker and
 * each worker a wakeup or more, far more than its few jobs do (measured: 25 ms cost 2.4 times as much per check as
 * 100 ms), so the pause grows as the rate of jobs falls, to give a round about ROUND_JOBS jobs: 100 ms at 640 jobs a
 * second and more, MAX_ROUND_MS at 256 and fewer. It stays short at high rates because every job sent ahead is held by
 * a worker until its due and takes one of its slots meanwhile.
 */
const MIN_ROUND_MS = 100;
const MAX_ROUND_MS = 250;
const ROUND_JOBS = 64;
/** The rate of jobs is measured over windows of this length. */
const RATE_WINDOW_MS = 1000;
/**
 * Slots due within the pause and this much more of now are sent ahead, and their workers start them on time
 * (src/worker/start-grid.ts): a round pops every slot due before the next round can send it, so rounds, messages and
 * wakeups are shared by several checks at any load, without adding to their lag.
 */
const AHEAD_MARGIN_MS = 50;
/** The most a job is sent ahead of its due (ms). */
export const MAX_SEND_AHEAD_MS = MAX_ROUND_MS + AHEAD_MARGIN_MS;

/** Starts the control loop. */
export async function startControl(opts: ControlOptions): Promise<Control> {
  const { redis, logger, zone } = opts;
  const k = keys(zone);
  const batch = opts.batch ?? 1000;
  const maxSleep = opts.maxSleepMs ?? 5000;
  const defaultTimeout = opts.defaultTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const counters = new Counters(redis, k.counters, 'control');
  counters.start();
  const lag = new LagRecorder(redis, lagKey(zone));
  const prom = opts.metrics && controlMetrics(opts.metrics, counters);

  // A job is stamped `sent` as it leaves; one that waited past its interval (a broker down or slow) is dropped,
  // since the monitor's next job is already queued behind it.
  // Due times are Redis's (the schedule's); sent times and lags are measured on the same clock.
  const clock = new RedisClock(redis);
  const now = () => clock.now();
  const held = new HeldSlots(redis, k, logger, now, (slots) => resend(slots));
  const out = new JobLinks(opts.brokers, opts.curve, logger, (job) => {
    const t = clock.now();
    if (t - job.due > job.interval! * 1000) {
      counters.inc('jobs_expired');
      return undefined;
    }
    job.sent = t;
    return job;
  }, now, (endpoint, slots, at) => held.brokerGone(endpoint, slots, at));
  logger.info({ brokers: opts.brokers, zone }, 'control started');

  let stopped = false;
  // The sleep until the next round: when it ends (Redis clock), and how to end it sooner.
  let sleeping: { until: number; timer: NodeJS.Timeout; end: () => void } | undefined;
  const sleepUntil = (until: number) =>
    new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(sleeping?.timer);
        sleeping = undefined;
        resolve();
      };
      sleeping = { until, timer: setTimeout(end, Math.max(0, until - clock.now())), end };
    });
  const wake = () => sleeping?.end();
  /** The pause after a round that was not full, from the rate of jobs (see MIN_ROUND_MS); slots due within it plus AHEAD_MARGIN_MS are sent ahead. */
  let pauseMs = MAX_ROUND_MS;
  const aheadMs = () => pauseMs + AHEAD_MARGIN_MS;
  let windowStart = 0;
  let inWindow = 0;
  /** No round starts before this (Redis clock): the pause after the last one that was not full. */
  let nextRoundFloor = 0;
  /** The earliest slot announced since the current round popped. */
  let announcedDue = Infinity;
  const announced = (due: number) => {
    if (!(due < announcedDue)) return;
    announcedDue = due;
    const at = Math.max(nextRoundFloor, due - aheadMs());
    if (sleeping && at < sleeping.until) {
      clearTimeout(sleeping.timer);
      sleeping.until = at;
      sleeping.timer = setTimeout(sleeping.end, Math.max(0, at - clock.now()));
    }
  };
  // applyMonitor announces each slot it gives on the schedule's channel; after a reconnection anything may have
  // been announced unheard, so the next round comes at once.
  const announcements = redis.duplicate();
  announcements.on('error', () => undefined); // the control's own connection reports Redis being down
  announcements.on('message', (_channel: string, due: string) => announced(Number(due)));
  announcements.on('ready', () => announced(0));
  announcements.subscribe(k.schedule).catch(() => undefined);

  // Once a minute per monitor: a bad monitor comes back every interval.
  const badLog = new LogThrottle(60_000);
  /** Sends the monitor's job; a config that would make a job no receiver accepts is refused here, named in the log. */
  const dispatch = (monitor: Monitor, due: number, now: number): 'sent' | 'full' | 'bad' => {
    const job = jobOf(monitor, zone, due, now, defaultTimeout);
    try {
      checkFields('job', job as unknown as Record<string, unknown>, now);
      checkJobData(job.data);
    } catch (err) {
      counters.inc('bad_configs');
      const suppressed = badLog.take(monitor.id, now);
      if (suppressed !== undefined) {
        logger.error({ monitorId: monitor.id, field: (err as BadMessage).field, err: (err as Error).message, suppressed },
          'monitor config in Redis cannot be checked; not dispatched: fix the monitor (cloudroutes monitor edit) or run "cloudroutes rebuild-redis"');
      }
      return 'bad';
    }
    return out.send(job) ? 'sent' : 'full';
  };

  /** Sends again, for the same slot, the jobs of slots a lost broker held that have no result and time left. */
  const resend = async (slots: SentSlot[]) => {
    const configs = await redis.mget(slots.map((s) => k.monitor(s.monitorId)));
    const at = clock.now();
    configs.forEach((json, i) => {
      if (!json) return;
      if (dispatch(JSON.parse(json) as Monitor, slots[i]!.due, at) === 'sent') counters.inc('jobs_resent');
      else counters.inc('jobs_lost_broker');
    });
  };

  // Lines that can come every round (a queue full for each job, missed slots) are logged once per period, with counts.
  const roundLog = new LogThrottle(5000);
  let missedSinceLog = 0;
  /** One round; returns when the next should start (Redis clock). */
  const tick = async (): Promise<number> => {
    announcedDue = Infinity;
    // The next round must come within this round's pause, whatever the rate says next: the slots after the ones
    // popped now are due from the pause (plus the margin) on.
    const pause = pauseMs;
    const popped = await redis.schedulePop(k.schedule, k.intervals, '', batch, k.monitor(''), pause + AHEAD_MARGIN_MS);
    const nextDue = Number(popped[0]);
    const missed = Number(popped[1]);
    clock.observe(Number(popped[2]));
    if (missed > 0) {
      counters.inc('missed_checks', missed);
      missedSinceLog += missed;
      if (roundLog.take('missed') !== undefined) {
        logger.warn({ missed: missedSinceLog }, 'control fell more than one interval behind; skipped slots (counted control.missed_checks)');
        missedSinceLog = 0;
      }
    }
    const ids: string[] = [];
    const dues: number[] = [];
    const configs: (string | null)[] = [];
    for (let i = 3; i + 2 < popped.length; i += 3) {
      ids.push(String(popped[i]));
      dues.push(Number(popped[i + 1]));
      configs.push(popped[i + 2] === null ? null : String(popped[i + 2]));
    }
    if (ids.length) {
      const sentAt = clock.now();
      configs.forEach((json, i) => {
        const id = ids[i]!;
        if (!json) return counters.inc('jobs_without_config');
        let monitor: Monitor;
        try {
          monitor = JSON.parse(json) as Monitor;
        } catch {
          counters.inc('bad_configs');
          const suppressed = badLog.take(id);
          if (suppressed !== undefined) logger.error({ monitorId: id, suppressed }, 'monitor config in Redis is not JSON; run "cloudroutes rebuild-redis"');
          return;
        }
        const sent = dispatch(monitor, dues[i]!, sentAt);
        if (sent === 'sent') {
          counters.inc('jobs_sent');
          const late = Math.max(0, sentAt - dues[i]!);
          lag.add(late);
          prom?.lag(late);
        } else if (sent === 'full') {
          counters.inc('jobs_dropped_queue_full');
          const suppressed = roundLog.take('full');
          if (suppressed !== undefined) logger.warn({ monitorId: id, suppressed }, 'job queue to the broker is full; check skipped, counted control.jobs_dropped_queue_full (is a broker running?)');
        }
      });
    }
    const after = clock.now();
    inWindow += ids.length;
    if (after - windowStart >= RATE_WINDOW_MS) {
      const perMs = inWindow / (after - windowStart);
      pauseMs = perMs > 0 ? Math.min(MAX_ROUND_MS, Math.max(MIN_ROUND_MS, Math.round(ROUND_JOBS / perMs))) : MAX_ROUND_MS;
      windowStart = after;
      inWindow = 0;
    }
    if (ids.length >= batch) return after;
    nextRoundFloor = after + Math.min(pause, pauseMs);
    const next = Math.min(nextDue < 0 ? Infinity : nextDue, announcedDue) - aheadMs();
    return Math.max(nextRoundFloor, Math.min(after + maxSleep, next));
  };

  const loop = supervise('control', 'schedule', (async () => {
    let failing = false;
    while (!stopped) {
      let next: number;
      try {
        next = await tick();
        if (failing) logger.info('control resumed');
        failing = false;
      } catch (err) {
        if (!failing) logger.error({ err: (err as Error).message }, 'control round failed; retrying');
        failing = true;
        next = clock.now() + 500;
      }
      if (next > clock.now() && !stopped) await sleepUntil(next);
    }
  })(), () => !stopped, logger, opts.onLoopEnded);

  return {
    counters,
    async stop() {
      stopped = true;
      wake();
      await loop;
      announcements.disconnect();
      clock.stop();
      held.stop();
      await lag.stop();
      await out.drained(1000);
      const unsent = out.close();
      if (unsent) {
        counters.inc('jobs_unsent_at_stop', unsent);
        logger.warn({ jobs: unsent }, 'stopped with jobs no broker took; their slots are counted control.jobs_unsent_at_stop');
      }
      await counters.stop();
    },
  };
}

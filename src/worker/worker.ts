/**
 * The worker: takes jobs from the broker as it has free slots, runs many checks at once, and adds one result per job
 * to the zone's results stream in Redis, holding each until Redis confirms it.
 */
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { RedisKnownHosts, useKnownHosts } from '../core/ssh-known-hosts.js';
import type { Registry } from 'prom-client';
import { Counters } from '../core/counters.js';
import { keys, startLagKey } from '../core/keys.js';
import { LagRecorder } from '../core/lag-recorder.js';
import { workerMetrics } from '../core/metrics-process.js';
import { BadMessage, checkFields, decode, encode, MAX_JOBS_PER_MESSAGE, type JobMessage, type ResultMessage } from '../core/messages.js';
import { checkLoader } from '../core/plugins.js';
import { commandPolicy } from '../core/command-policy.js';
import { ResultOutbox } from '../core/result-outbox.js';
import { BrokerLink } from './broker-link.js';
import { StartGrid } from './start-grid.js';
import { answerTest } from './test-answers.js';
import type { CurveClient } from '../core/socket-options.js';
import { readSignal } from '../core/signals.js';
import { runCheck, type SignalReader } from './run-check.js';
import { settleWithin } from '../core/time.js';
import { failpoint } from '../core/failpoints.js';
import { Refusals } from '../core/refusals.js';
import { RedisClock } from '../core/redis-clock.js';
import { supervise, type LoopEnded } from '../core/main-loop.js';
import { everySecond } from '../core/ticker.js';
import type { CheckResult } from '../core/types.js';

export interface WorkerOptions {
  /** Broker endpoints for jobs (tcp://host:5556), one per broker of the zone: jobs are taken from every one. */
  jobs: string | string[];
  zone: string;
  logger: Logger;
  /** The zone's Redis: results go to its results stream. */
  redis: Redis;
  /** Results held while Redis does not confirm them; past it a result is dropped and counted. Default 100,000. */
  outboxCapacity?: number;
  /** Most results the results stream may hold waiting for a sink (CLOUDROUTES_BACKLOG_MAX; 0 or absent: no limit). */
  resultsWaitingMax?: number;
  /** Checks run at once. */
  concurrency?: number;
  secretKey?: Buffer;
  checksPath?: string[];
  /** Registry of this process's /metrics (--metrics-port): checks by result and duration, running checks, counters. */
  metrics?: Registry;
  /** Called when the receive loop ends while the worker runs (default: the process's handler, which exits). */
  onLoopEnded?: LoopEnded;
  /** CURVE: the broker's public key and this process's pair (plaintext when undefined). */
  curve?: CurveClient;
  /** Run checks that run commands (--allow-commands); without it they give unknown, not run. */
  allowCommands?: boolean;
}

/** A job as a worker took it: from which broker, under which number. */
interface Taken {
  job: JobMessage;
  link: BrokerLink;
  number: number | undefined;
}

export interface Worker {
  counters: Counters;
  running(): number;
  stop(): Promise<void>;
}

/**
 * The jobs of one message: [job] (a broker that does not number its jobs), or [number, job, number, job, ...] (the
 * number, 4 bytes, tells the broker which jobs a worker that dies still held); undefined for any other shape.
 */
function numberedJobs(frames: Buffer[]): [number | undefined, Buffer][] | undefined {
  if (frames.length === 1) return [[undefined, frames[0]!]];
  if (frames.length % 2 !== 0 || frames.length > 2 * MAX_JOBS_PER_MESSAGE) return undefined;
  const out: [number | undefined, Buffer][] = [];
  for (let i = 0; i < frames.length; i += 2) {
    if (frames[i]!.length !== 4) return undefined;
    out.push([frames[i]!.readUInt32BE(0), frames[i + 1]!]);
  }
  return out;
}

/**
 * How long a credit waits for more finished jobs while the worker has slots to spare (ms). A credit costs the worker
 * and the broker a wakeup each; at a few hundred checks a second a short wait sent one every few jobs, most of the
 * worker's and the broker's wakeups. The broker only needs to hear before it runs short of this worker's credit, which
 * CREDIT_NOW_SHARE and the near-full rule below ensure.
 */
const CREDIT_LINGER_MS = 250;
/** Once this share of the slots has finished without the brokers being told, the credit goes out at once. */
const CREDIT_NOW_SHARE = 1 / 8;

/** Connects to the broker and starts taking jobs. */
export async function startWorker(opts: WorkerOptions): Promise<Worker> {
  const { logger } = opts;
  const concurrency = opts.concurrency ?? 256;
  const counters = new Counters(opts.redis, keys(opts.zone).counters, 'worker');
  counters.start();
  const loader = checkLoader(opts.checksPath);
  const commands = commandPolicy(opts.allowCommands, 'worker');
  const redis = opts.redis;
  // SSH checks without data.ssh.hostKey trust the key first met by any worker of the zone.
  useKnownHosts(new RedisKnownHosts(redis, opts.zone));
  const signals: SignalReader = (id) => readSignal(redis, opts.zone, id);
  const endpoints = typeof opts.jobs === 'string' ? [opts.jobs] : opts.jobs;
  const links = endpoints.map((e) => new BrokerLink(e, concurrency, opts.curve, logger));
  const results = new ResultOutbox(redis, keys(opts.zone).results, opts.outboxCapacity ?? 100_000, logger, opts.resultsWaitingMax);

  let running = 0;
  let stopped = false;
  let reading = true;
  let creditTimer: NodeJS.Timeout | undefined;
  let creditNow = false;
  /** Slots given back since the last credit. */
  let untold = 0;
  let lastCreditAt = 0;
  const waiting: Taken[] = [];
  const refusals = new Refusals(counters, logger);
  const prom = opts.metrics && workerMetrics(opts.metrics, counters, () => running);
  const startLag = new LagRecorder(redis, startLagKey(opts.zone));
  // Due times are Redis's clock; the start lag is measured on it, whatever this machine's clock says.
  const clock = new RedisClock(redis);
  await clock.sync();

  /** Slots taken: checks running, jobs waiting for a slot, jobs held for their tick. */
  const taken = () => running + waiting.length + grid.size;
  const sendCredit = () => {
    clearTimeout(creditTimer);
    creditTimer = undefined;
    creditNow = false;
    untold = 0;
    if (!reading) return;
    lastCreditAt = Date.now();
    // Every broker hears of every free slot: with several brokers the worker may be sent more than it has slots for,
    // and the rest wait in `waiting` (and count against its free slots), so no broker's job waits on a dead one.
    const free = Math.max(0, concurrency - taken());
    for (const link of links) link.credit(free);
  };
  const creditSoon = () => {
    if (stopped) return;
    untold++;
    // While more than half the slots are free the brokers have credit to spare, so finished jobs are told in one
    // message every CREDIT_LINGER_MS rather than one each; near full, or with many slots untold, at once.
    if (taken() >= concurrency / 2 || untold >= Math.max(1, concurrency * CREDIT_NOW_SHARE)) {
      if (!creditNow) setImmediate(sendCredit);
      creditNow = true;
    } else creditTimer ??= setTimeout(sendCredit, CREDIT_LINGER_MS);
  };
  // Also a heartbeat, in the process's shared tick: the brokers hear from this worker at least every 2 s, so a broker
  // that restarted learns of it within that, and none forgets it (a worker silent for 5 s is forgotten).
  let stopHeartbeat: (() => void) | undefined = everySecond(() => {
    if (Date.now() - lastCreditAt >= 1000) sendCredit();
  });

  const admit = (taken: Taken) => {
    if (running < concurrency) void execute(taken);
    else waiting.push(taken);
  };
  const grid = new StartGrid<Taken>(() => clock.now(), (jobs) => jobs.forEach(admit));

  const execute = async ({ job, link, number }: Taken): Promise<void> => {
    // The slot is given back and a result sent whatever the check (or its message) does.
    running++;
    const started = performance.now();
    let result: CheckResult = { status: 'unknown', message: 'the worker could not run the check' };
    try {
      // Early or late: a job sent ahead starts on its tick, up to half a tick before its due.
      const offset = Math.abs(clock.now() - job.due);
      startLag.add(offset);
      prom?.startLag(offset);
      result = await runCheck(job, loader, opts.secretKey, logger, signals, commands);
    } catch (err) {
      result = { status: 'unknown', message: `the worker could not run the check: ${(err as Error).message}` };
    } finally {
      running--;
    }
    try {
      counters.inc(`checks.${result.status}`);
      prom?.checked(job.ctype, result.status, performance.now() - started);
      const msg: ResultMessage = {
        v: 1, type: 'result', monitorId: job.monitorId, zone: job.zone, status: result.status, message: result.message ?? '',
        latencyMs: result.latencyMs ?? null, due: job.due, checkedAt: clock.now(),
        ...(result.metrics ? { metrics: result.metrics } : {}),
      };
      if (result.status === 'unknown') logger.warn({ monitorId: job.monitorId, ctype: job.ctype, reason: msg.message }, 'check could not run');
      // What the broker would refuse is caught here, where the monitor can be named.
      checkFields('result', msg as unknown as Record<string, unknown>);
      // A test job answers its caller only; with --record its result also goes the way of every result.
      if (job.test !== undefined) answerTest(redis, job as JobMessage & { test: string }, msg, logger);
      if (job.test !== undefined && !job.record) return;
      if (!results.push(encode(msg))) {
        counters.inc('results_dropped_outbox_full');
        logger.error({ monitorId: job.monitorId, held: results.length }, 'results outbox full (Redis has not confirmed results for a while: is it reachable?); result dropped');
      }
    } catch (err) {
      counters.inc('results_failed');
      logger.error({ monitorId: job.monitorId, err: (err as Error).message }, 'could not send the result of a check');
    } finally {
      link.finished(number);
      const next = waiting.shift();
      if (next) void execute(next);
      else creditSoon();
    }
  };

  const receive = async (link: BrokerLink) => {
    for await (const frames of link.dealer) {
      failpoint('worker.receive');
      const jobs = numberedJobs(frames);
      if (!jobs) {
        link.received++;
        refusals.refuse('jobs', new BadMessage('malformed_json', `a message of ${frames.length} frames is neither [job], [number, job] nor pairs of them`));
        creditSoon();
        continue;
      }
      link.received += jobs.length;
      for (const [number, msg] of jobs) {
        let job: JobMessage;
        try {
          job = decode(msg, ['job']);
        } catch (err) {
          refusals.refuse('jobs', err);
          link.finished(number);
          creditSoon();
          continue;
        }
        // Hand the job to the pool (at its tick, when sent ahead); never await the check here, so the socket keeps being read.
        const taken = { job, link, number };
        if (!grid.hold(taken, job.due)) admit(taken);
      }
    }
  };
  // A worker that no longer reads a broker's jobs must not go on telling any broker it has free slots.
  const stopCredit = () => {
    reading = false;
    stopHeartbeat?.();
    stopHeartbeat = undefined;
  };
  const loops = links.map((link) => supervise('worker', 'receive', receive(link).finally(stopCredit), () => !stopped, logger, opts.onLoopEnded));

  sendCredit();
  logger.info({ jobs: opts.jobs, concurrency, allowCommands: commands.allowed }, 'worker started');

  return {
    counters,
    running: () => running,
    async stop() {
      stopped = true;
      stopCredit();
      clearTimeout(creditTimer);
      for (const link of links) link.close();
      await Promise.all(loops);
      grid.takeAll().forEach(admit);
      const deadline = Date.now() + 5000;
      while ((running > 0 || waiting.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      clock.stop();
      await startLag.stop();
      await settleWithin(results.drained(), 5000);
      results.close();
      await counters.stop();
    },
  };
}

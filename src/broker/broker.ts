/** The broker: jobs from controls to workers that have credit (results go from workers to sinks through Redis). */
import { Pull, Router } from 'zeromq';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { Counters } from '../core/counters.js';
import { keys } from '../core/keys.js';
import { BadMessage, decode, MAX_JOBS_PER_MESSAGE, type JobMessage } from '../core/messages.js';
import { Refusals } from '../core/refusals.js';
import { LogThrottle } from '../core/log-throttle.js';
import { brokerMetrics } from '../core/metrics-process.js';
import type { BrokerPorts } from '../core/config.js';
import { socketOptions } from '../core/socket-options.js';
import { CreditTable } from './credit-table.js';
import { InFlight } from './in-flight.js';
import { LOST_WORKER_COUNTER, writeOffJobs } from './lost-jobs.js';
import { supervise, type LoopEnded } from '../core/main-loop.js';
import { failpoint } from '../core/failpoints.js';
import { startBrokerAuth, type BrokerCurve } from './auth.js';
import { MAX_HOLD_MS } from '../core/limits.js';
import { everySecond } from '../core/ticker.js';

export interface BrokerOptions {
  bind: string;
  ports: BrokerPorts;
  logger: Logger;
  zone: string;
  redis?: Redis;
  /** Most jobs held while no worker has credit; beyond it the oldest queued job is dropped for each new one. */
  maxQueued?: number;
  /** A worker silent for this long is forgotten. */
  workerExpireMs?: number;
  /** Registry of this process's /metrics (--metrics-port): queue, workers and credit, counters. */
  metrics?: Registry;
  /** Called when a receive loop ends while the broker runs (default: the process's handler, which exits). */
  onLoopEnded?: LoopEnded;
  /** CURVE: the broker's pair and its allowed clients; without it the broker only listens on a loopback address. */
  curve?: BrokerCurve;
  /** Listen in plaintext on an address others can reach (warned at every start). */
  insecurePlaintext?: boolean;
}

export interface Broker {
  counters: Counters;
  queued(): number;
  /** Re-reads the allowed clients file (SIGHUP); returns how many keys are allowed. */
  reloadClients(): number;
  stop(): Promise<void>;
}

/** Binds the two sockets and starts moving jobs. */
export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const { logger, ports } = opts;
  const k = keys(opts.zone);
  const counters = new Counters(opts.redis, k.counters, 'broker');
  counters.start();
  const maxQueued = opts.maxQueued ?? 100_000;
  let auth;
  try {
    auth = await startBrokerAuth({ ...opts, zapDomain: `cloudroutes-broker-${ports.jobsIn}`, counters });
  } catch (err) {
    await counters.stop();
    throw err;
  }
  const common = socketOptions(auth.server);
  const jobsIn = new Pull({ ...common, receiveHighWaterMark: 10_000 });
  const workers = new Router({ ...common, mandatory: true, sendTimeout: 0, sendHighWaterMark: 100_000 });
  const sockets = [jobsIn, workers];
  if (auth.server) auth.watch(sockets);
  const url = (port: number) => `tcp://${opts.bind}:${port}`;
  try {
    await jobsIn.bind(url(ports.jobsIn));
    await workers.bind(url(ports.workers));
  } catch (err) {
    for (const s of sockets) s.close();
    await auth.stop();
    await counters.stop();
    throw err;
  }
  logger.info({ bind: opts.bind, ports, curve: !!auth.server }, 'broker listening');

  const credit = new CreditTable(opts.workerExpireMs ?? 5000);
  const inFlight = new InFlight();
  // Taken slots are cleared: a job buffer that stayed referenced until the next compaction outlived
  // the young generation and pinned ZeroMQ's receive buffer until a full GC.
  const queue: (Buffer | undefined)[] = [];
  // When each job was queued, index for index with `queue` (numbers only, so it stays an unboxed double array).
  const queuedAt: number[] = [];
  // When each job stops being worth running (broker clock), index for index with `queue`: a job that has waited
  // longer than its monitor's interval is dropped, since the monitor's next job is already on its way.
  const expiresAt: number[] = [];
  let qHead = 0;
  let droppedSinceLog = { expired: 0, queueFull: 0 };
  const dropLog = new LogThrottle(5000);
  let stopped = false;
  const queued = () => queue.length - qHead;
  const enqueue = (job: Buffer, expires: number) => {
    queue.push(job);
    queuedAt.push(Date.now());
    expiresAt.push(expires);
  };
  // Dropped jobs are counted through writeOffSlot in a batch after the pass that dropped them.
  const dropped = { expired: [] as Buffer[], queueFull: [] as Buffer[] };
  let droppedFlush: NodeJS.Immediate | undefined;
  const writeOffDropped = () => {
    droppedFlush = undefined;
    return Promise.all((['expired', 'queueFull'] as const).map((why) => {
      const jobs = dropped[why].splice(0);
      const failed = (n: number, err: string) => logger.error({ jobs: n, why, err }, 'dropped jobs could not be counted in Redis; they stay without a result or a count');
      return writeOffJobs(opts.redis, k, counters, jobs, why === 'expired' ? 'jobs_expired' : 'jobs_dropped_queue_full')
        .then((w) => w.error && failed(w.unsettled, w.error), (err: Error) => failed(jobs.length, err.message));
    }));
  };
  /** Counts a dropped job by why; a warning at most every 5 s. */
  const countDrop = (why: 'expired' | 'queueFull', job: Buffer, now: number) => {
    dropped[why].push(job);
    droppedFlush ??= setImmediate(() => void writeOffDropped());
    droppedSinceLog[why]++;
    if (dropLog.take('dropped', now) === undefined) return;
    logger.warn({ ...droppedSinceLog, queued: queued() },
      'dropped jobs that waited longer than their interval or did not fit the queue; the workers cannot keep up: add workers or raise --concurrency');
    droppedSinceLog = { expired: 0, queueFull: 0 };
  };
  const dropOldest = (why: 'expired' | 'queueFull', now: number) => {
    const job = queue[qHead]!;
    queue[qHead++] = undefined;
    countDrop(why, job, now);
  };
  /** Drops every queued job past its expiry wherever it sits, so none waits behind a longer-lived one at the head. */
  const dropExpired = (now: number) => {
    let kept = qHead;
    for (let i = qHead; i < queue.length; i++) {
      if (expiresAt[i]! < now) {
        countDrop('expired', queue[i]!, now);
        queue[i] = undefined;
        continue;
      }
      queue[kept] = queue[i];
      queuedAt[kept] = queuedAt[i]!;
      expiresAt[kept] = expiresAt[i]!;
      kept++;
    }
    queue.length = queuedAt.length = expiresAt.length = kept;
  };
  const refusals = new Refusals(counters, logger);

  /**
   * A worker that went silent or unreachable: what it held is sent again while there is time, else counted lost
   * (unless its result was recorded all the same: the worker may be cut off from this broker only).
   */
  const workerGone = (key: string, now: number, why: string) => {
    const { again, late } = inFlight.takeAll(key, now);
    for (const h of again) enqueue(h.job, h.expires);
    if (again.length) {
      counters.inc('jobs_rerun', again.length);
      dispatch();
    }
    if (!again.length && !late.length) return;
    const said = { worker: key, why, rerun: again.length };
    const unsettled = (n: number, err: string) => logger.error({ ...said, unsettled: n, err },
      'a gone worker held jobs past their time that could not be counted lost_worker in Redis; they stay without a result or a count');
    writeOffJobs(opts.redis, k, counters, late.map((h) => h.job), LOST_WORKER_COUNTER).then((w) => {
      logger.warn({ ...said, lost: w.lost, recorded: w.recorded },
        'a worker is gone with jobs it held: those with time left in their interval go to another worker, the others are counted lost_worker unless their result was recorded');
      if (w.error) unsettled(w.unsettled, w.error);
    }, (err: Error) => unsettled(late.length, err.message));
  };

  const dispatch = () => {
    const now = Date.now();
    // The jobs each worker is given in this pass go to it as one message: [number, job, number, job, ...].
    const batches = new Map<string, { id: Buffer; frames: Buffer[] }>();
    while (queued() > 0) {
      if (expiresAt[qHead]! < now) {
        dropOldest('expired', now);
        continue;
      }
      const id = credit.take();
      if (!id) break;
      const job = queue[qHead]!;
      const expires = expiresAt[qHead]!;
      queue[qHead++] = undefined;
      counters.inc('jobs_dispatched');
      const key = id.toString('hex');
      const number = Buffer.allocUnsafe(4);
      number.writeUInt32BE(inFlight.add(key, job, expires));
      let batch = batches.get(key);
      if (!batch) batches.set(key, (batch = { id, frames: [] }));
      batch.frames.push(number, job);
      if (batch.frames.length >= 2 * MAX_JOBS_PER_MESSAGE) {
        send(key, batch);
        batches.delete(key);
      }
    }
    for (const [key, batch] of batches) send(key, batch);
    if (qHead > 4096 && qHead * 2 > queue.length) {
      queue.splice(0, qHead);
      queuedAt.splice(0, qHead);
      expiresAt.splice(0, qHead);
      qHead = 0;
    }
  };

  const send = (key: string, { id, frames }: { id: Buffer; frames: Buffer[] }) => {
    // sendTimeout 0: a send either queues at once or rejects (EHOSTUNREACH for a gone worker), never waits.
    workers.send([id, ...frames]).catch((err: Error) => {
      if (stopped) return;
      credit.forget(id);
      workerGone(key, Date.now(), `unreachable (${err.message})`);
    });
  };

  const readJobs = async () => {
    // A control sends the jobs of one round as one message, a job per frame.
    for await (const frames of jobsIn) {
      failpoint('broker.jobs');
      if (frames.length > MAX_JOBS_PER_MESSAGE) {
        refusals.refuse('jobs', new BadMessage('too_large', `${frames.length} jobs in one message; at most ${MAX_JOBS_PER_MESSAGE}`));
        continue;
      }
      for (const msg of frames) {
        let job: JobMessage;
        try {
          job = decode(msg, ['job']);
        } catch (err) {
          refusals.refuse('jobs', err);
          continue;
        }
        // Measured from the control's own due and sent times plus this broker's own clock, so clocks that differ
        // between machines do not shorten or stretch it. A job sent ahead of its due has that much longer (at most
        // the second a worker holds a job before its due).
        const budget = job.interval! * 1000 - Math.max(-MAX_HOLD_MS, job.sent - job.due);
        enqueue(msg, Date.now() + budget);
        // Full: drop the oldest rather than stop reading. Jobs left waiting in the controls' and ZeroMQ's buffers
        // would be older than the budget above assumes, and would run after the monitor's next job is already due.
        if (queued() > maxQueued) dropOldest('queueFull', Date.now());
      }
      dispatch();
    }
  };

  const readCredit = async () => {
    for await (const [id, msg] of workers) {
      try {
        const c = decode(msg!, ['credit']);
        const worker = Buffer.from(id!);
        credit.report(worker, c.free, c.received, Date.now());
        if (c.done) inFlight.done(worker.toString('hex'), c.done);
      } catch (err) {
        refusals.refuse('workers', err);
        continue;
      }
      dispatch();
    }
  };

  const loops = ([['jobs', readJobs], ['credit', readCredit]] as const).map(([name, loop]) =>
    supervise('broker', name, loop(), () => !stopped, logger, opts.onLoopEnded));
  const stopSweeping = everySecond(() => {
    const now = Date.now();
    const gone = credit.expire(now);
    if (gone.length) logger.warn({ workers: gone.length }, 'forgot silent workers');
    for (const key of gone) workerGone(key, now, 'silent');
    inFlight.sweep(now, 60_000);
    dropExpired(now);
  });

  if (opts.metrics) {
    brokerMetrics(opts.metrics, counters, {
      queued, maxQueued, credit,
      oldestQueuedAt: () => (queued() > 0 ? queuedAt[qHead] : undefined),
      badMessages: () => [...refusals.bySocket].map(([key, n]) => [...(key.split('\t') as [string, string]), n]),
    });
  }

  return {
    counters,
    queued,
    reloadClients: () => auth.reload(),
    async stop() {
      stopped = true;
      stopSweeping();
      for (const s of sockets) s.close();
      await Promise.all(loops);
      if (droppedFlush) {
        clearImmediate(droppedFlush);
        await writeOffDropped();
      }
      await auth.stop();
      await counters.stop();
    },
  };
}

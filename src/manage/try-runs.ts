/**
 * Try before you trust (`cloudroutes monitor test`, `reaction test` and their API routes). A monitor's check runs now
 * through a broker and a worker of the zone: the job goes to a broker as a control sends it (CURVE when the zone uses
 * it) and carries a test id; the worker answers under the zone's test key for that id and, unless `record`, adds
 * nothing to the results stream, so nothing is recorded and no reaction acts. A reaction runs now in one of the zone's
 * sinks, asked through the zone's tests stream (src/sink/reaction-tests.ts), which answers the same way.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Push } from 'zeromq';
import { endpoint, type Settings } from '../core/config.js';
import { errors } from '../core/errors.js';
import { keys } from '../core/keys.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../core/limits.js';
import { checkFields, checkJobData, decode, encode, jobOf, REACTION_TEST_START_MS, type Message, type ReactionTestedMessage, type ReactionTestMessage, type TestResultMessage } from '../core/messages.js';
import { socketOptions, type CurveClient } from '../core/socket-options.js';
import { runsIn, type Monitor } from '../core/types.js';
import type { Store } from '../store/store.js';

/** How long a broker may take to accept the job (connect, CURVE handshake). */
const BROKER_WAIT_MS = 3000;
/** A worker or sink answers within the run's own time limit and this. */
const ANSWER_GRACE_MS = 5000;
const POLL_MS = 100;

export interface TryDeps {
  redis: Redis;
  store: Store;
  settings: Settings;
  /** CURVE for the link to the brokers (undefined: plaintext). */
  curve?: CurveClient;
}

/** Redis's clock, epoch ms: a job's due and a request's sent are on the zone's one clock. */
async function redisNow(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Waits up to `ms` for the answer to test `id`, takes it (the key is deleted) and decodes it; undefined when none came. */
async function answer<T extends Message['type']>(redis: Redis, zone: string, id: string, type: T, ms: number): Promise<Extract<Message, { type: T }> | undefined> {
  const key = keys(zone).testAnswer(id);
  const until = Date.now() + ms;
  for (;;) {
    const raw = await redis.getdel(key);
    if (raw) {
      const got = decode(raw, [type]) as Extract<Message, { type: T }> & { test: string };
      if (got.test !== id) throw errors.badRequest(`the answer under ${key} is for test ${got.test}, not ${id}`);
      return got;
    }
    if (Date.now() >= until) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Sends one job to the next broker that takes it within BROKER_WAIT_MS (ZeroMQ hands it to a connected one). */
async function sendJob(settings: Settings, curve: CurveClient | undefined, frame: string): Promise<void> {
  const brokers = settings.brokers.map((b) => endpoint(b.host, b.ports.jobsIn));
  const push = new Push({ ...socketOptions(curve), immediate: true, sendTimeout: BROKER_WAIT_MS, linger: 1000 });
  try {
    for (const b of brokers) push.connect(b);
    await push.send(frame);
  } catch {
    throw errors.testNoBroker(settings.zone, brokers, BROKER_WAIT_MS);
  } finally {
    push.close();
  }
}

/** Runs monitor `id`'s check now in a worker of the zone and returns its result; `record`: recorded as any result. */
export async function testMonitor(d: TryDeps, id: string, record: boolean): Promise<TestResultMessage> {
  const { redis, settings } = d;
  const zone = settings.zone;
  const stored = await d.store.getMonitor(id);
  if (!stored) throw errors.noSuchMonitor(id);
  if (!runsIn(stored, zone)) throw errors.testElsewhere(id, zone, stored.zones ?? []);
  // The config the control would send (secret fields as Redis holds them; the worker decrypts).
  const json = await redis.get(keys(zone).monitor(id));
  if (!json) throw errors.testNotInZone('monitor', id, zone);
  const now = await redisNow(redis);
  const job = { ...jobOf(JSON.parse(json) as Monitor, zone, now, now, DEFAULT_CHECK_TIMEOUT_MS), test: randomUUID(), ...(record ? { record } : {}) };
  checkFields('job', job as unknown as Record<string, unknown>, now);
  checkJobData(job.data);
  await sendJob(settings, d.curve, encode(job));
  const got = await answer(redis, zone, job.test, 'test-result', job.timeoutMs + ANSWER_GRACE_MS);
  if (!got) throw errors.testNoWorker(zone, id, job.timeoutMs + ANSWER_GRACE_MS);
  return got;
}

/**
 * Runs reaction `reactionId` now in a sink of the zone for a synthetic `status` event of monitor `monitorId` (for
 * real, or as a dry run when the reaction is one); recorded in the audit as `test`, naming `by`. `monitorField` names
 * the input that gave the monitor, for the refusal when the monitor does not use the reaction.
 */
export async function testReaction(d: TryDeps, reactionId: string, monitorId: string, status: 'failed' | 'healthy', by: string,
  reactionTimeoutMs: number, monitorField = 'monitor'): Promise<ReactionTestedMessage> {
  const { redis, settings } = d;
  const zone = settings.zone;
  const k = keys(zone);
  if (!(await d.store.getReaction(reactionId))) throw errors.noSuchReaction(reactionId);
  const monitor = await d.store.getMonitor(monitorId);
  if (!monitor) throw errors.noSuchMonitor(monitorId);
  if (!monitor.reactions.includes(reactionId)) throw errors.reactionNotUsed(reactionId, monitorId, monitor.reactions, monitorField);
  const [r, m] = await redis.mget(k.reaction(reactionId), k.monitor(monitorId));
  if (!r) throw errors.testNotInZone('reaction', reactionId, zone);
  if (!m) throw errors.testNotInZone('monitor', monitorId, zone);
  const request: ReactionTestMessage = { v: 1, type: 'reaction-test', test: randomUUID(), reactionId, monitorId, status, by, sent: await redisNow(redis) };
  checkFields('reaction-test', request as unknown as Record<string, unknown>);
  await redis.xadd(k.tests, 'MAXLEN', '~', 1000, '*', 'r', encode(request));
  const waitMs = REACTION_TEST_START_MS + reactionTimeoutMs + 2000;
  const got = await answer(redis, zone, request.test, 'reaction-tested', waitMs);
  if (!got) throw errors.testNoSink(zone, reactionId, waitMs);
  return got;
}

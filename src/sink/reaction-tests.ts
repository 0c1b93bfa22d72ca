/**
 * A sink's reaction tests (`cloudroutes reaction test`, POST /api/v1/reactions/:id/test): requests read from the
 * zone's tests stream as one consumer of the sinks' group, so each goes to one sink. The reaction runs for a synthetic
 * event of the monitor, past every rule and budget (a person asked for it), for real or, when the reaction is a dry
 * run, with ctx.dryRun; it is recorded in the audit as `test` and answered under the test's key. A request is
 * acknowledged before it runs, so a test acts at most once, and one read after its caller stopped waiting is dropped.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { commandRefusal } from '../core/command-policy.js';
import { keys, RESULTS_GROUP, TEST_ANSWER_TTL_S } from '../core/keys.js';
import { supervise, type LoopEnded } from '../core/main-loop.js';
import { decode, encode, MAX_REACTION_MESSAGE, REACTION_TEST_START_MS, type ReactionTestedMessage, type ReactionTestMessage } from '../core/messages.js';
import type { Refusals } from '../core/refusals.js';
import type { Monitor, Reaction, ReactionEvent, ReactionModule, Status } from '../core/types.js';
import type { ReactorDeps } from './reactor.js';
import { runReaction } from './run-reaction.js';
import { parseJson } from './verification.js';

export interface ReactionTestsOptions extends Pick<ReactorDeps, 'redis' | 'logger' | 'counters' | 'clock' | 'decisions' | 'loader' | 'runner' | 'commands' | 'timeoutMs' | 'secretKey'> {
  zone: string;
  refusals: Refusals;
  /** This sink's name in the sinks' group. */
  consumer: string;
  onLoopEnded?: LoopEnded;
}

const SINK = `${hostname()}:${process.pid}`;
type Outcome = Pick<ReactionTestedMessage, 'outcome' | 'message' | 'tookMs'>;

/** Starts taking reaction tests; the returned function stops it. */
export function startReactionTests(o: ReactionTestsOptions): () => Promise<void> {
  const k = keys(o.zone);
  const conn = o.redis.duplicate();
  conn.on('error', () => undefined); // the sink's own connection reports Redis being down
  let stopped = false;

  const answer = async (req: ReactionTestMessage, out: Outcome) => {
    const msg: ReactionTestedMessage = {
      v: 1, type: 'reaction-tested', test: req.test, reactionId: req.reactionId, monitorId: req.monitorId, sink: SINK,
      outcome: out.outcome, message: out.message.slice(0, MAX_REACTION_MESSAGE), tookMs: Math.max(0, Math.round(out.tookMs)),
    };
    await o.redis.set(k.testAnswer(req.test), encode(msg), 'EX', TEST_ANSWER_TTL_S);
  };

  /** Runs one test and records it; resolves with what the caller is told. */
  const run = async (req: ReactionTestMessage, reaction: Reaction, monitor: Monitor, mod: ReactionModule, log: Logger): Promise<Outcome> => {
    const [episode] = await o.redis.hmget(k.state(monitor.id), 'episode');
    const status: Status = req.status;
    const event: ReactionEvent = {
      monitor: { id: monitor.id, name: monitor.name, ctype: monitor.ctype }, reaction: { id: reaction.id, name: reaction.name, rtype: reaction.rtype, data: reaction.data },
      status, previousStatus: null, failcount: status === 'failed' ? 1 : 0, zone: o.zone, checkedAt: o.clock.now(),
      message: `test of reaction ${reaction.name} asked by ${req.by}`,
    };
    const refused = commandRefusal(mod.meta, o.commands);
    const dryRun = reaction.dryRun === true;
    const r = refused ? { outcome: 'failed' as const, message: refused.message, durationMs: 0 } : await runReaction(mod, event, o.timeoutMs, o.secretKey, log, dryRun);
    const outcome = dryRun && r.outcome === 'ran' ? 'dry-run' : r.outcome;
    log.info({ decision: 'test', outcome, durationMs: r.durationMs, by: req.by }, 'reaction tested');
    const { reaction: _, ...seen } = event;
    await o.decisions.record({
      event: seen, reactionId: reaction.id, decision: 'test', episode: Number(episode ?? 0), tookMs: r.durationMs,
      message: `test asked by ${req.by} for a ${status} event: ${outcome}${r.message ? `: ${r.message}` : ''}`,
    });
    return { outcome, message: r.message, tookMs: r.durationMs };
  };

  const handle = async (req: ReactionTestMessage): Promise<void> => {
    const log = o.logger.child({ monitorId: req.monitorId, reactionId: req.reactionId, test: req.test });
    const failed = (message: string) => answer(req, { outcome: 'failed', message, tookMs: 0 });
    const [r, m] = await o.redis.mget(k.reaction(req.reactionId), k.monitor(req.monitorId));
    const reaction = parseJson<Reaction>(r);
    const monitor = parseJson<Monitor>(m);
    if (!reaction || !monitor) return failed(`not run: ${!reaction ? `reaction ${req.reactionId}` : `monitor ${req.monitorId}`} is not in zone ${o.zone}'s Redis`);
    // The caller checked it against the store; a request written into the stream by other means is held to it too.
    if (!monitor.reactions?.includes(reaction.id)) return failed(`not run: monitor ${monitor.id} does not use reaction ${reaction.id}`);
    let mod: ReactionModule;
    try {
      mod = await o.loader.load(reaction.rtype);
    } catch (err) {
      return failed(`not run: ${(err as Error).message}`);
    }
    const accepted = o.runner.submit(reaction.rtype, () => run(req, reaction, monitor, mod, log).then((out) => answer(req, out), (err: Error) => {
      log.error({ err: err.message }, 'a reaction test failed');
      return failed(`the sink could not run the test: ${err.message}`);
    }));
    if (!accepted) await failed(`not run: too many ${reaction.rtype} reactions already wait for a slot`);
  };

  const loop = async () => {
    try {
      await conn.xgroup('CREATE', k.tests, RESULTS_GROUP, '$', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
    while (!stopped) {
      let got: [string, [string, string[]][]][] | null;
      try {
        got = (await conn.xreadgroup('GROUP', RESULTS_GROUP, o.consumer, 'COUNT', 16, 'BLOCK', 1000, 'STREAMS', k.tests, '>')) as typeof got;
      } catch (err) {
        if (stopped) break;
        if (/NOGROUP/.test((err as Error).message)) await conn.xgroup('CREATE', k.tests, RESULTS_GROUP, '$', 'MKSTREAM').catch(() => undefined);
        else await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [id, fields] of got?.[0]?.[1] ?? []) {
        await conn.multi().xack(k.tests, RESULTS_GROUP, id).xdel(k.tests, id).exec();
        let req: ReactionTestMessage;
        try {
          const at = fields.findIndex((f, i) => i % 2 === 0 && f === 'r');
          req = decode(at >= 0 ? fields[at + 1] ?? '' : '', ['reaction-test'], o.clock.now());
        } catch (err) {
          o.refusals.refuse('tests', err);
          continue;
        }
        if (o.clock.now() - req.sent > REACTION_TEST_START_MS) {
          o.counters.inc('tests_expired');
          o.logger.warn({ reactionId: req.reactionId, monitorId: req.monitorId, test: req.test }, 'dropped a reaction test read too late: its caller no longer waits for it');
          continue;
        }
        void handle(req).catch((err: Error) => o.logger.error({ reactionId: req.reactionId, err: err.message }, 'could not answer a reaction test'));
      }
    }
  };
  const done = supervise('sink', 'tests', loop(), () => !stopped, o.logger, o.onLoopEnded);
  return async () => {
    stopped = true;
    conn.disconnect();
    await done;
  };
}

/** A worker's answer to a test job (`cloudroutes monitor test`): the result under the test's key, for its caller only. */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { keys, TEST_ANSWER_TTL_S } from '../core/keys.js';
import { encode, type JobMessage, type ResultMessage, type TestResultMessage } from '../core/messages.js';

const WORKER = `${hostname()}:${process.pid}`;

/** Puts the result of test job `job` under its key (kept a minute); logged, never thrown, when Redis refuses it. */
export function answerTest(redis: Redis, job: JobMessage & { test: string }, result: ResultMessage, logger: Logger): void {
  const { type: _, ...fields } = result;
  const answer: TestResultMessage = { ...fields, type: 'test-result', test: job.test, worker: WORKER, recorded: job.record === true };
  redis.set(keys(job.zone).testAnswer(job.test), encode(answer), 'EX', TEST_ANSWER_TTL_S).catch((err: Error) =>
    logger.error({ monitorId: job.monitorId, test: job.test, err: err.message }, 'could not answer a test job (is Redis reachable?); its caller will say no worker answered'));
}

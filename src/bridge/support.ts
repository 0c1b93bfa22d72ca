/** Small helpers of the bridge: abortable sleep, backoff, a "log once per state change" flag, owned Redis connections. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { connectRedis, defineScripts, logConnectionState } from '../core/redis.js';

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Settles like `p`, or rejects as soon as `signal` aborts: for calls to a Redis that may not answer before the bridge stops. */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('bridge stopped'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('bridge stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Doubling delay between retries, reset on success. */
export class Backoff {
  private current: number;
  constructor(private readonly min = 100, private readonly max = 5000) {
    this.current = min;
  }

  next(): number {
    const d = this.current;
    this.current = Math.min(this.current * 2, this.max);
    return d;
  }

  reset(): void {
    this.current = this.min;
  }
}

/** Logs a failure when things go from working to failing and once when they work again, not at every attempt. */
export class FailureLog {
  private failing = false;
  constructor(private readonly logger: Logger, private readonly what: string, private readonly hint: string) {}

  failed(err: unknown, extra: Record<string, unknown> = {}): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.error({ ...extra, err: (err as Error).message, code: (err as { code?: string }).code }, `${this.what} failed; retrying with backoff (${this.hint})`);
  }

  ok(extra: Record<string, unknown> = {}): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info(extra, `${this.what} works again`);
  }

  get isFailing(): boolean {
    return this.failing;
  }
}

/** A factory of Redis connections owned by the bridge (each blocking reader needs its own). */
export function connectionFactory(url: string, logger: Logger, template?: Redis): (label: string) => Redis {
  if (!template) return (label) => connectRedis(url, logger.child({ conn: label }));
  return (label) => {
    const redis = template.duplicate();
    defineScripts(redis);
    logConnectionState(redis, logger, { conn: label });
    return redis;
  };
}

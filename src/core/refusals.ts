/** Counting and logging refused messages: each is counted, the log is throttled, since anyone who reaches a port can send them. */
import type { Logger } from 'pino';
import type { Counters } from './counters.js';
import { LogThrottle } from './log-throttle.js';
import { BadMessage } from './messages.js';

export class Refusals {
  private readonly throttle = new LogThrottle(5000);
  /** By socket and reason, for /metrics (the counters, and Redis, hold them by reason only). */
  readonly bySocket = new Map<string, number>();

  constructor(private readonly counters: Counters, private readonly logger: Logger) {}

  /** Counts `err` as `bad_messages.<reason>`; logs it unless this socket and reason logged within the last 5 s. */
  refuse(socket: string, err: unknown, now = Date.now()): void {
    const reason = err instanceof BadMessage ? err.reason : 'error';
    this.counters.inc(`bad_messages.${reason}`);
    const key = `${socket}\t${reason}`;
    this.bySocket.set(key, (this.bySocket.get(key) ?? 0) + 1);
    const alsoDropped = this.throttle.take(key, now);
    if (alsoDropped === undefined) return;
    this.logger.warn({ socket, reason, err: (err as Error).message, ...(alsoDropped ? { alsoDropped } : {}) }, 'dropped a bad message');
  }
}

/**
 * Unhandled rejections and uncaught exceptions of a long-running process. A rejection is logged (throttled) and
 * counted, and the process runs on; an uncaught exception leaves it in an unknown state, so it exits 1 for its
 * process manager to restart it.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { errors } from './errors.js';
import { LogThrottle } from './log-throttle.js';
import { fatal } from './main-loop.js';

const counts = { unhandledRejections: 0, uncaughtExceptions: 0 };

/** How many of each this process has had. */
export function processFaults(): Readonly<typeof counts> {
  return counts;
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Watches process `proc`: an uncaught exception goes to `fatal` (the process's handler exits 1); rejections are counted, a line every 5 s. */
export function watchProcess(proc: string, logger: Logger): void {
  const rejections = new LogThrottle(5000);
  process.on('unhandledRejection', (err) => {
    counts.unhandledRejections++;
    const suppressed = rejections.take('unhandledRejection');
    if (suppressed === undefined) return;
    logger.error({ err: reasonOf(err), stack: (err as Error)?.stack, total: counts.unhandledRejections, suppressed }, 'unhandled rejection (counted; kept running)');
  });
  process.on('uncaughtException', (err) => {
    counts.uncaughtExceptions++;
    fatal(errors.uncaughtException(proc, reasonOf(err)), logger, { stack: (err as Error)?.stack });
  });
}

/** Adds cloudroutes_unhandled_rejections_total and cloudroutes_uncaught_exceptions_total to `registry`. */
export function processFaultMetrics(registry: Registry): void {
  const series = [
    ['cloudroutes_unhandled_rejections_total', 'Promise rejections nothing handled, logged and counted', 'unhandledRejections'],
    ['cloudroutes_uncaught_exceptions_total', 'Exceptions nothing caught (each makes the process exit)', 'uncaughtExceptions'],
  ] as const;
  for (const [name, help, key] of series) {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(counts[key]); } });
  }
}

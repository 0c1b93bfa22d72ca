/** Unhandled rejections and uncaught exceptions of a long-running process: logged, counted, served on /metrics. */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

const counts = { unhandledRejections: 0, uncaughtExceptions: 0 };

/** How many of each this process has had. */
export function processFaults(): Readonly<typeof counts> {
  return counts;
}

/** Logs and counts them instead of letting Node end the process on the first one (its loops are supervised). */
export function watchProcess(logger: Logger): void {
  process.on('unhandledRejection', (err) => {
    counts.unhandledRejections++;
    logger.error({ err: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack, total: counts.unhandledRejections }, 'unhandled rejection (counted; kept running)');
  });
  process.on('uncaughtException', (err) => {
    counts.uncaughtExceptions++;
    logger.error({ err: err.message, stack: err.stack, total: counts.uncaughtExceptions }, 'uncaught exception (counted; kept running)');
  });
}

/** Adds cloudroutes_unhandled_rejections_total and cloudroutes_uncaught_exceptions_total to `registry`. */
export function processFaultMetrics(registry: Registry): void {
  const series = [
    ['cloudroutes_unhandled_rejections_total', 'Promise rejections nothing handled, logged and counted', 'unhandledRejections'],
    ['cloudroutes_uncaught_exceptions_total', 'Exceptions nothing caught, logged and counted', 'uncaughtExceptions'],
  ] as const;
  for (const [name, help, key] of series) {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(counts[key]); } });
  }
}

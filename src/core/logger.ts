import { pino, type Logger, type DestinationStream } from 'pino';

/** The process logger: pino JSON on stdout, level from LOG_LEVEL (default info). */
export function createLogger(name: string, destination?: DestinationStream): Logger {
  const opts = { name, level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid, proc: name } };
  return destination ? pino(opts, destination) : pino(opts);
}

export type { Logger };

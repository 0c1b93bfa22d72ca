/** A pino logger that writes into an array, for asserting on log lines. */
import { pino, type Logger } from 'pino';

export interface MemoryLog {
  logger: Logger;
  lines: Record<string, unknown>[];
}

/** A logger at `level` whose JSON lines are parsed into `lines`. */
export function memoryLog(level = 'info'): MemoryLog {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** A lock file beside a file that several processes rewrite, so that a read-then-write of one is not interleaved with another's. */
import { closeSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { errors } from './errors.js';

/** A lock older than this was left by a process that died holding it (a holder keeps it for milliseconds). */
const STALE_MS = 5_000;
/** How long to wait for a live holder before giving up. */
const WAIT_MS = 10_000;

/** Runs `fn` holding `${file}.lock`, created exclusively (O_EXCL), waiting for another process holding it. */
export async function withFileLock<T>(file: string, fn: () => T): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStale(lock)) {
      removeLock(lock);
      continue;
    }
    if (Date.now() > deadline) throw errors.fileLocked(file, lock, WAIT_MS);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  try {
    return fn();
  } finally {
    removeLock(lock);
  }
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

function removeLock(lock: string): void {
  try {
    unlinkSync(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

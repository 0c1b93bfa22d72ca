/** What `cloudroutes dev` keeps to its user: a data folder only they can read, and a password on the Redis it starts. */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `cloudroutes dev` keeps the password of the redis-server it starts. */
export function devRedisPasswordPath(dataDir: string): string {
  return resolve(dataDir, 'redis.password');
}

/** Group and other permission bits. */
const SHARED = 0o077;

/** Takes group and other bits off `path` and, for a folder, everything under it; returns how many entries it changed. */
function tighten(path: string): number {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return 0;
  let changed = 0;
  if (st.mode & SHARED) {
    chmodSync(path, st.mode & 0o700);
    changed++;
  }
  if (st.isDirectory()) for (const name of readdirSync(path)) changed += tighten(join(path, name));
  return changed;
}

/**
 * Makes the data folder mode 0700 (tightening an existing one and what it holds) and sets this process's
 * umask to 077, so every file that dev, its redis-server and its processes create is 0600 from the start.
 * Returns a line to print when an existing folder was opened to others.
 */
export function privateDataDir(dataDir: string): string | undefined {
  process.umask(0o077);
  if (!existsSync(dataDir)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return undefined;
  }
  const changed = tighten(dataDir);
  return changed ? `made ${dataDir} private to its owner (folders 0700, files 0600; ${changed} entr${changed === 1 ? 'y' : 'ies'} changed): it holds the secret key and the store` : undefined;
}

/** The dev Redis's password, made (random, in a 0600 file) at the first start and kept for the next ones. */
export function devRedisPassword(dataDir: string): string {
  const file = devRedisPasswordPath(dataDir);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32,}$/.test(kept)) return kept;
  } catch {
    // none yet
  }
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

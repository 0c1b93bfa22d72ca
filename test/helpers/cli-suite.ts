/** For a CLI test file: a temp dir, a real Redis and a SQLite store there, and `run` calling the real `cloudroutes`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, type CliResult } from './procs.js';
import { RedisServer } from './redis-server.js';

export interface CliSuite {
  dir: string;
  /** The settings every call gets (filled in before the first test). */
  env: NodeJS.ProcessEnv;
  redis: RedisServer;
  run(...args: string[]): Promise<CliResult>;
}

/** Registers hooks on `suite` that start Redis and remove the temp dir after; `extra` settings are added to every call. */
export function useCli(suite: Test, name: string, extra: NodeJS.ProcessEnv = {}): CliSuite {
  const dir = mkdtempSync(join(tmpdir(), `cr-${name}-`));
  const redis = new RedisServer();
  const env: NodeJS.ProcessEnv = {};
  suite.before(async () => {
    await redis.start();
    Object.assign(env, {
      REDIS_URL: redis.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
      CLOUDROUTES_SECRET_KEY: 'cd'.repeat(32), LOG_LEVEL: 'silent', ...extra,
    });
  });
  suite.after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, env, redis, run: (...args) => cli(args, env, dir) };
}

/** Asserts that the call was refused as bad usage: exit status 2, the error code and `pattern` on stderr, nothing on stdout. */
export function assertUsageError(r: CliResult, code: string, pattern: RegExp): void {
  assert.is(r.code, 2, `exit status 2 expected, got ${r.code}: ${r.stderr}`);
  assert.ok(r.stderr.includes(`[${code}]`), r.stderr);
  assert.match(r.stderr, pattern);
  assert.is(r.stdout, '');
}

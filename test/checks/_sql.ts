/** Tests the SQL checks (postgres, mysql) share: a query's first value against data.expected, on the machine's server. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CheckResult } from '../../src/core/types.js';

type Run = (data: Record<string, unknown>, ms?: number) => Promise<CheckResult>;

/** Registers the query tests; `login` reaches database "test", `currentDatabase` is the dialect's SQL for its name. */
export function sqlQueryTests(run: Run, login: { port: number } & Record<string, unknown>, currentDatabase: string): void {
  const where = `127.0.0.1:${login.port}`;

  test('a live server runs SELECT 1, with connect and query times', async () => {
    const r = await run(login);
    assert.is(r.status, 'healthy', r.message);
    assert.is(r.message, `query on ${where} returned 1 row`);
    assert.ok(r.metrics!.connectMs! > 0 && r.metrics!.queryMs! >= 0);
    assert.is(r.metrics!.rows, 1);
  });

  test('the first value matching the expected text is healthy', async () => {
    const r = await run({ ...login, query: `SELECT ${currentDatabase}, 'x'`, expected: 'test' });
    assert.is(r.status, 'healthy', r.message);
    assert.is(r.message, `query on ${where} got "test" as expected`);
    assert.is((await run({ ...login, query: 'SELECT 40 + 2', expected: '42' })).status, 'healthy');
    assert.is((await run({ ...login, query: 'SELECT NULL', expected: 'NULL' })).status, 'healthy');
  });

  test('a different value fails, naming what it got and what was expected', async () => {
    const r = await run({ ...login, query: 'SELECT 41', expected: '42' });
    assert.is(r.status, 'failed');
    assert.is(r.message, `query on ${where} got "41", expected "42"`);
    const none = await run({ ...login, query: 'SELECT 1 WHERE false', expected: '1' });
    assert.is(none.status, 'failed');
    assert.match(none.message!, 'returned no rows, expected "1"');
  });
}

/** Runs the check until it is healthy (for at most about two seconds): a server forgets ended sessions within moments. */
export async function runUntilHealthy(run: Run, data: Record<string, unknown>): Promise<CheckResult> {
  let r = await run(data);
  for (let i = 0; i < 40 && r.status !== 'healthy'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    r = await run(data);
  }
  return r;
}

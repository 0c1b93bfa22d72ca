import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { connectionFailureTests, requireService } from './_services.js';
import { runUntilHealthy, sqlQueryTests } from './_sql.js';
import { ctx, job, silentPeer, type Peer } from '../helpers/peers.js';

const PORT = 3306;
const login = { host: '127.0.0.1', port: PORT, user: 'root', database: 'test' };
let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  await requireService('MariaDB', PORT);
  mod = await checkLoader().load('mysql');
  peer = await silentPeer();
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('mysql', data), ctx(ms));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { host: 'a' }), ['data.user is required']);
  assert.equal(validate(f, { host: 'a', user: 'u' }), []);
  assert.match(validate(f, { ...login, port: 70000 }).join(), 'data.port must be <= 65535');
  assert.match(validate(f, { ...login, query: '' }).join(), 'data.query must have at least 1 characters');
  assert.match(validate(f, { ...login, expected: 1 }).join(), 'data.expected must be a string');
  assert.match(validate(f, { ...login, sql: 'x' }).join(), 'data.sql is not a known field');
  assert.ok(f.properties!.password!.secret);
  assert.equal(validate(f, { ...login, password: 'p', tls: true, query: 'SELECT 2', expected: '2', timeoutMs: 1000 }), []);
});

sqlQueryTests(run, login, 'DATABASE()');

test('a query error and an unknown database fail with the server message', async () => {
  const q = await run({ ...login, query: 'SELECT * FROM no_such_table_cr' });
  assert.is(q.status, 'failed');
  assert.match(q.message!, `running the query on 127.0.0.1:${PORT} failed: Table 'test.no_such_table_cr' doesn't exist`);
  const db = await run({ ...login, database: 'no_such_db_cr' });
  assert.is(db.status, 'failed');
  assert.match(db.message!, /connecting to 127\.0\.0\.1:3306 as root failed: Unknown database 'no_such_db_cr'/);
});

test('a wrong password fails with the access denial', async () => {
  const r = await run({ ...login, password: 'not-the-password' });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^connecting to 127\.0\.0\.1:3306 as root failed: Access denied for user 'root'@/);
});

connectionFailureTests(run, login, 'connecting to TARGET as root', () => peer);

test('a slow query is cut by data.timeoutMs, and the server stops it too (KILL QUERY)', async () => {
  const started = Date.now();
  const r = await run({ ...login, query: "SELECT SLEEP(5), 'cr-slow-query'", timeoutMs: 300 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, new RegExp(`^timed out after \\d+ ms running the query on 127\\.0\\.0\\.1:${PORT}$`));
  assert.ok(Date.now() - started < 1500);
  const left = await runUntilHealthy(run, { ...login, query: "SELECT count(*) FROM information_schema.processlist WHERE info LIKE '%''cr-slow-query''' AND id <> CONNECTION_ID()", expected: '0' });
  assert.is(left.status, 'healthy', left.message);
});

test('every check ends its session on the server', async () => {
  const count = { ...login, query: "SELECT count(*) FROM information_schema.processlist WHERE user = 'root' AND id <> CONNECTION_ID()" };
  // An expected value no count has makes the check tell the count it got.
  const before = await run({ ...count, expected: '-1' });
  await Promise.all([run(login), run({ ...login, query: 'SELECT 41', expected: '42' }), run({ ...login, query: 'SELECT nope' })]);
  const after = await runUntilHealthy(run, { ...count, expected: /got "(\d+)"/.exec(before.message!)?.[1] ?? '?' });
  assert.is(after.status, 'healthy', after.message);
});

test('data the check cannot use gives unknown', async () => {
  assert.is((await run({ ...login, port: 'x' })).status, 'unknown');
  assert.is((await run({ host: '127.0.0.1', database: 'test', user: 7 })).status, 'unknown');
});

test.run();

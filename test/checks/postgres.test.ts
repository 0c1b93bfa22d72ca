import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { connectionFailureTests, requireService } from './_services.js';
import { runUntilHealthy, sqlQueryTests } from './_sql.js';
import { ctx, job, silentPeer, type Peer } from '../helpers/peers.js';

const PORT = 5432;
const login = { host: '127.0.0.1', port: PORT, user: 'postgres', database: 'test' };
let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  await requireService('PostgreSQL', PORT);
  mod = await checkLoader().load('postgres');
  peer = await silentPeer();
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('postgres', data), ctx(ms));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { host: 'a', user: 'u' }), ['data.database is required']);
  assert.match(validate(f, { ...login, port: 70000 }).join(), 'data.port must be <= 65535');
  assert.match(validate(f, { ...login, query: '' }).join(), 'data.query must have at least 1 characters');
  assert.match(validate(f, { ...login, expected: 1 }).join(), 'data.expected must be a string');
  assert.match(validate(f, { ...login, sql: 'x' }).join(), 'data.sql is not a known field');
  assert.ok(f.properties!.password!.secret);
  assert.equal(validate(f, { ...login, password: 'p', tls: true, query: 'SELECT 2', expected: '2', timeoutMs: 1000 }), []);
});

sqlQueryTests(run, login, 'current_database()');

test('a query error and an unknown database fail with the server message', async () => {
  const q = await run({ ...login, query: 'SELECT * FROM no_such_table_cr' });
  assert.is(q.status, 'failed');
  assert.match(q.message!, `running the query on 127.0.0.1:${PORT} failed: relation "no_such_table_cr" does not exist`);
  const db = await run({ ...login, database: 'no_such_db_cr' });
  assert.is(db.status, 'failed');
  assert.match(db.message!, /connecting to 127\.0\.0\.1:5432 as postgres failed: database "no_such_db_cr" does not exist/);
});

test('every check ends its session on the server', async () => {
  await Promise.all([run(login), run({ ...login, query: 'SELECT 41', expected: '42' }), run({ ...login, query: 'SELECT nope' })]);
  // The check itself counts the other sessions it opened, by application_name.
  const r = await runUntilHealthy(run, { ...login, query: "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cloudroutes-check' AND pid <> pg_backend_pid()", expected: '0' });
  assert.is(r.status, 'healthy', r.message);
});

connectionFailureTests(run, login, 'connecting to TARGET as postgres', () => peer);

test('a slow query is cut by data.timeoutMs, and the server ends it too (statement_timeout)', async () => {
  const started = Date.now();
  const r = await run({ ...login, query: "SELECT pg_sleep(5), 'cr-slow-query'", timeoutMs: 300 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, new RegExp(`^timed out after \\d+ ms running the query on 127\\.0\\.0\\.1:${PORT}$`));
  assert.ok(Date.now() - started < 1500);
  const left = await runUntilHealthy(run, { ...login, query: "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%''cr-slow-query''' AND pid <> pg_backend_pid()", expected: '0' });
  assert.is(left.status, 'healthy', left.message);
});

test('data the check cannot use gives unknown', async () => {
  assert.is((await run({ ...login, port: 'x' })).status, 'unknown');
  assert.is((await run({ host: '127.0.0.1', database: 'test' })).status, 'unknown');
});

test.run();

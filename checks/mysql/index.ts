/** Check: a MySQL or MariaDB server accepts a login and runs a query, optionally with an expected answer. */
import mysql, { type ConnectionOptions } from 'mysql2';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeoutField } from '../../plugin-support/fields.js';
import { ms } from '../../plugin-support/net-errors.js';
import { Deadline, TimedOut, failure, hostField, passwordField, portField, target, tlsField, unusable } from '../_shared/service.js';
import { databaseField, expectedField, judgeRows, queryField, userField } from '../_shared/sql.js';

export const meta: PluginMeta = {
  title: 'MySQL / MariaDB query',
  description:
    'Logs in to a MySQL or MariaDB server with the mysql2 client over one fresh connection and runs a query (default ' +
    'SELECT 1); healthy when the query succeeds and, with expected set, when the first column of the first row reads ' +
    'as the expected text. A refused connection, a failed login, an unknown database, a query error or no answer ' +
    'before the time limit fails the check with the reason; a wrong answer fails it naming what it got and what was ' +
    'expected. The connection is always closed, and a query cut at the time limit is stopped on the server with KILL ' +
    'QUERY. Metrics: connectMs (login included), queryMs, rows.',
  fields: {
    type: 'object',
    properties: {
      host: hostField,
      port: portField(3306),
      user: userField,
      password: passwordField,
      database: { ...databaseField, description: 'Database to use; leave out to connect without one.' },
      tls: tlsField,
      query: queryField,
      expected: expectedField,
      timeoutMs: timeoutField,
    },
    required: ['host', 'user'],
    additionalProperties: false,
  },
};

interface Data {
  user: string;
  password?: string;
  database?: string;
  tls?: boolean;
  query?: string;
  expected?: string;
}

/** Connects to data.host:data.port as data.user, runs data.query and compares its first value with data.expected. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const at = target(job, 3306);
  if ('status' in at) return at;
  const data = job.data as unknown as Data;
  if (typeof data.user !== 'string') return unusable(job, 'data.user must be a string');
  const deadline = new Deadline(job, ctx);
  const options: ConnectionOptions = {
    host: at.host,
    port: at.port,
    user: data.user,
    password: data.password,
    database: data.database,
    ssl: data.tls ? { rejectUnauthorized: true } : undefined,
  };
  const conn = mysql.createConnection({ ...options, connectTimeout: deadline.limitMs || undefined });
  // Errors after connect (the server going away) arrive as events; the awaited call reports them.
  conn.on('error', () => {});
  let phase = `connecting to ${at.where} as ${data.user}`;
  try {
    await deadline.race(new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve()))));
    const connectMs = deadline.elapsed();
    phase = `running the query on ${at.where}`;
    const rows = await deadline.race(
      new Promise<unknown[][]>((resolve, reject) =>
        conn.query({ sql: data.query ?? 'SELECT 1', rowsAsArray: true }, (err, result) => (err ? reject(err) : resolve(Array.isArray(result) ? (result as unknown[][]) : []))),
      ),
    );
    const latencyMs = deadline.elapsed();
    const metrics = { connectMs, queryMs: ms(latencyMs - connectMs), rows: rows.length };
    return judgeRows(rows.length ? rows[0]![0] : undefined, rows.length, data.expected, at.where, metrics, latencyMs);
  } catch (err) {
    if (err instanceof TimedOut && phase.startsWith('running')) killQuery(options, conn.threadId);
    return failure(err, phase, at.host, at.port, deadline);
  } finally {
    deadline.clear();
    // destroy() only half-closes (stream.end), which waits for a running query; the socket must go now.
    conn.destroy();
    (conn as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }
}

/** Asks the server to stop a query the check gave up on, over a second short-lived connection: it would run on after the client left. */
function killQuery(options: ConnectionOptions, threadId: number): void {
  const killer = mysql.createConnection({ ...options, connectTimeout: 1000 });
  killer.on('error', () => {});
  const timer = setTimeout(() => killer.destroy(), 1000);
  timer.unref();
  killer.query(`KILL QUERY ${Number(threadId)}`, () => {
    clearTimeout(timer);
    killer.destroy();
  });
}

/** Check: a PostgreSQL server accepts a login and runs a query, optionally with an expected answer. */
import pg from 'pg';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeoutField } from '../../plugin-support/fields.js';
import { ms } from '../../plugin-support/net-errors.js';
import { Deadline, failure, hostField, passwordField, portField, target, tlsField, unusable } from '../_shared/service.js';
import { databaseField, expectedField, judgeRows, queryField, userField } from '../_shared/sql.js';

export const meta: PluginMeta = {
  title: 'PostgreSQL query',
  description:
    'Logs in to a PostgreSQL server with the pg client over one fresh connection and runs a query (default SELECT 1); ' +
    'healthy when the query succeeds and, with expected set, when the first column of the first row reads as the ' +
    'expected text. A refused connection, a failed login, an unknown database, a query error or no answer before the ' +
    'time limit fails the check with the reason; a wrong answer fails it naming what it got and what was expected. ' +
    'The connection is always closed, and a query cut at the time limit is ended by the server too (statement_timeout). ' +
    'Metrics: connectMs (login included), queryMs, rows.',
  fields: {
    type: 'object',
    properties: {
      host: hostField,
      port: portField(5432),
      user: userField,
      password: passwordField,
      database: databaseField,
      tls: tlsField,
      query: queryField,
      expected: expectedField,
      timeoutMs: timeoutField,
    },
    required: ['host', 'user', 'database'],
    additionalProperties: false,
  },
};

interface Data {
  user: string;
  password?: string;
  database: string;
  tls?: boolean;
  query?: string;
  expected?: string;
}

/** Connects to data.host:data.port as data.user, runs data.query and compares its first value with data.expected. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const at = target(job, 5432);
  if ('status' in at) return at;
  const data = job.data as unknown as Data;
  if (typeof data.user !== 'string' || typeof data.database !== 'string') return unusable(job, 'data.user and data.database must be strings');
  const deadline = new Deadline(job, ctx);
  const client = new pg.Client({
    host: at.host,
    port: at.port,
    user: data.user,
    password: data.password,
    database: data.database,
    ssl: data.tls ? { servername: at.host } : false,
    application_name: 'cloudroutes-check',
    // The server does not notice a closed client while a query runs, so it ends the query itself just after the deadline.
    statement_timeout: deadline.limitMs > 0 ? deadline.limitMs + 100 : undefined,
  });
  // Errors after connect (the server going away) arrive as events; the awaited call reports them.
  client.on('error', () => {});
  let phase = `connecting to ${at.where} as ${data.user}`;
  try {
    await deadline.race(client.connect());
    const connectMs = deadline.elapsed();
    phase = `running the query on ${at.where}`;
    const res = await deadline.race(client.query({ text: data.query ?? 'SELECT 1', rowMode: 'array' }));
    const latencyMs = deadline.elapsed();
    const rows = res.rows.length;
    const metrics = { connectMs, queryMs: ms(latencyMs - connectMs), rows };
    return judgeRows(rows ? (res.rows[0] as unknown[])[0] : undefined, rows, data.expected, at.where, metrics, latencyMs);
  } catch (err) {
    return failure(err, phase, at.host, at.port, deadline);
  } finally {
    deadline.clear();
    client.end().catch(() => {});
  }
}

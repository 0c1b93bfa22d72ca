/** Check: a Redis server answers PING, and optionally an INFO field is within a range. */
import { Redis } from 'ioredis';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeoutField } from '../../plugin-support/fields.js';
import { ms } from '../../plugin-support/net-errors.js';
import { Deadline, TimedOut, failure, hostField, passwordField, portField, target, tlsField, unusable } from '../_shared/service.js';

export const meta: PluginMeta = {
  title: 'Redis PING',
  description:
    'Opens one connection to a Redis server (authenticating and selecting the database when given), sends PING and ' +
    'expects PONG; with info set it also reads INFO and fails when the named numeric field (e.g. connected_clients, ' +
    'used_memory) is below info.min or above info.max, naming the value and the limit. A refused connection, a failed ' +
    'AUTH or SELECT, an error reply or no answer before the time limit fails the check with the reason. The connection ' +
    'is never retried and is always closed. Metrics: connectMs, pingMs, and the INFO field under its own name.',
  fields: {
    type: 'object',
    properties: {
      host: hostField,
      port: portField(6379),
      username: { type: 'string', description: 'ACL user name (Redis 6 and later); leave out for the default user.', minLength: 1 },
      password: passwordField,
      db: { type: 'integer', description: 'Database number to SELECT (default 0).', minimum: 0, maximum: 10_000 },
      tls: tlsField,
      info: {
        type: 'object',
        description: 'Optional INFO threshold: the check fails when the field is below min or above max (give at least one).',
        properties: {
          field: { type: 'string', description: 'INFO field name, e.g. connected_clients or used_memory.', pattern: '^[A-Za-z0-9_]+$' },
          min: { type: 'number', description: 'Smallest healthy value (inclusive).' },
          max: { type: 'number', description: 'Largest healthy value (inclusive).' },
        },
        required: ['field'],
        additionalProperties: false,
      },
      timeoutMs: timeoutField,
    },
    required: ['host'],
    additionalProperties: false,
  },
};

interface Data {
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  info?: { field: string; min?: number; max?: number };
}

/** PINGs data.host:data.port; healthy on PONG and an INFO field within range. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const at = target(job, 6379);
  if ('status' in at) return at;
  const data = job.data as Data;
  if (data.info && data.info.min === undefined && data.info.max === undefined) return unusable(job, 'data.info needs min, max or both');
  const deadline = new Deadline(job, ctx);
  const redis = new Redis({
    host: at.host,
    port: at.port,
    username: data.username,
    password: data.password,
    tls: data.tls ? { servername: at.host } : undefined,
    lazyConnect: true,
    // The deadline ends the connect, and a closed connection's socket is dropped at once: ioredis's own timers
    // (connect 10 s, disconnect 2 s) outlive a failed AUTH and hold the process.
    connectTimeout: 0,
    disconnectTimeout: 100,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err));
  let phase = `connecting to ${at.where}`;
  // ioredis sends its own commands (AUTH, CLIENT SETINFO) once the socket is up, before connect() resolves.
  redis.once('connect', () => (phase = `setting up the connection to ${at.where}`));
  try {
    await deadline.race(redis.connect());
    // An explicit SELECT, because ioredis only logs a SELECT that fails during its connect.
    if (data.db) await deadline.race(redis.select(data.db));
    const tConnect = deadline.elapsed();
    phase = `waiting for PONG from ${at.where}`;
    const pong = await deadline.race(redis.ping());
    const tPing = deadline.elapsed();
    const metrics: Record<string, number> = { connectMs: tConnect, pingMs: ms(tPing - tConnect) };
    if (pong !== 'PONG') return { status: 'failed', message: `${at.where} answered PING with ${JSON.stringify(pong)}`, latencyMs: tPing, metrics };
    if (!data.info) return { status: 'healthy', message: `PONG from ${at.where}`, latencyMs: tPing, metrics };
    phase = `reading INFO from ${at.where}`;
    const verdict = judgeInfo(await deadline.race(redis.info()), data.info, at.where);
    if (verdict.value !== undefined) metrics[data.info.field] = verdict.value;
    return { status: verdict.ok ? 'healthy' : 'failed', message: verdict.message, latencyMs: deadline.elapsed(), metrics };
  } catch (err) {
    // ioredis rejects a command on a failed connection with "Connection is closed."; the connection's own error says why.
    const cause = lastError && !(err instanceof TimedOut) ? lastError : err;
    // AUTH and SELECT replies race with connect(), so an error reply is named by what the server said, not by phase.
    if ((cause as Error).name === 'ReplyError') {
      return { status: 'failed', message: `${at.where} answered with an error: ${(cause as Error).message}`, latencyMs: deadline.elapsed() };
    }
    return failure(cause, phase, at.host, at.port, deadline);
  } finally {
    deadline.clear();
    redis.disconnect();
  }
}

/** Reads `field` from an INFO reply and compares it with min/max. */
function judgeInfo(text: string, rule: NonNullable<Data['info']>, where: string): { ok: boolean; message: string; value?: number } {
  const line = text.split(/\r?\n/).find((l) => l.startsWith(`${rule.field}:`));
  if (line === undefined) return { ok: false, message: `INFO from ${where} has no field ${rule.field}` };
  const raw = line.slice(rule.field.length + 1).trim();
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) return { ok: false, message: `INFO ${rule.field} from ${where} is ${JSON.stringify(raw)}, not a number` };
  if (rule.max !== undefined && value > rule.max) return { ok: false, message: `INFO ${rule.field} is ${value}, above the maximum ${rule.max}`, value };
  if (rule.min !== undefined && value < rule.min) return { ok: false, message: `INFO ${rule.field} is ${value}, below the minimum ${rule.min}`, value };
  const range = [rule.min !== undefined ? `>= ${rule.min}` : '', rule.max !== undefined ? `<= ${rule.max}` : ''].filter(Boolean).join(' and ');
  return { ok: true, message: `PONG from ${where}; INFO ${rule.field} is ${value} (${range})`, value };
}

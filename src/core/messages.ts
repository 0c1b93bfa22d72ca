/** The JSON messages on the ZeroMQ sockets, each with protocol version `v`, and their strict decoders. */
import { CloudRoutesError } from './errors.js';
import { dataBytes, jobTimeoutMs, MAX_DATA_BYTES, MAX_ID_LENGTH, MAX_INTERVAL_S, MAX_MESSAGE_LENGTH, MAX_NAME_LENGTH, MAX_TIMEOUT_MS, MIN_INTERVAL_S, MIN_TIMEOUT_MS, PLAIN_NAME } from './limits.js';
import { STATUS_VALUES, type CheckJob, type Monitor, type Status } from './types.js';

export const PROTOCOL_VERSION = 1;

/** Most jobs in one ZeroMQ message (control to broker: a job per frame; broker to worker: a number and a job each). */
export const MAX_JOBS_PER_MESSAGE = 1000;

/** control -> broker -> worker: check one monitor. Data keeps its secret fields encrypted. */
export interface JobMessage extends CheckJob {
  v: 1;
  type: 'job';
  /** Due time in the schedule, epoch ms. */
  due: number;
  /** When the control sent it, epoch ms. */
  sent: number;
  /**
   * A test run (`cloudroutes monitor test`): its id. The worker answers under the zone's test key for it
   * (src/core/try-runs.ts) and, unless `record`, adds nothing to the results stream.
   */
  test?: string;
  /** A test run whose result is also recorded as a normal result of the zone (its reactions act on it). */
  record?: boolean;
}

/** worker -> broker -> sink: the outcome of one job. */
export interface ResultMessage {
  v: 1;
  type: 'result';
  monitorId: string;
  zone: string;
  status: Status;
  message: string;
  latencyMs: number | null;
  metrics?: Record<string, number>;
  due: number;
  checkedAt: number;
}

/**
 * worker -> broker: the worker has `free` slots and has received `received` jobs in all.
 * The broker subtracts the jobs it sent that the worker has not yet received, so credit
 * stays exact across lost messages and broker restarts. `done` lists the numbers of the jobs this broker
 * numbered (its frame before the job) that the worker has finished since its last credit, so the broker
 * knows which jobs a worker that dies still held.
 */
export interface CreditMessage {
  v: 1;
  type: 'credit';
  free: number;
  received: number;
  done?: number[];
}

/** worker -> the caller of a test run (through Redis, under the test's key): the check's result, and who ran it. */
export interface TestResultMessage extends Omit<ResultMessage, 'type'> {
  type: 'test-result';
  test: string;
  /** The worker that ran it (host:pid). */
  worker: string;
  /** Whether it went to the results stream too (--record). */
  recorded: boolean;
}

/** The caller of a reaction test -> one of the zone's sinks (the tests stream): run this reaction for this monitor now. */
export interface ReactionTestMessage {
  v: 1;
  type: 'reaction-test';
  test: string;
  reactionId: string;
  monitorId: string;
  /** The synthetic event's status. */
  status: 'failed' | 'healthy';
  /** Who asked (cli, API key name), for the audit. */
  by: string;
  /** When it was asked, epoch ms (Redis's clock): a sink that reads it too late to be waited for drops it. */
  sent: number;
}

/** A sink -> the caller of a reaction test (under the test's key): what the module did and said. */
export interface ReactionTestedMessage {
  v: 1;
  type: 'reaction-tested';
  test: string;
  reactionId: string;
  monitorId: string;
  outcome: 'ran' | 'failed' | 'skipped' | 'dry-run';
  message: string;
  tookMs: number;
  /** The sink that ran it (host:pid). */
  sink: string;
}

/** A sink that reads a reaction test more than this after its `sent` drops it: its caller no longer waits. */
export const REACTION_TEST_START_MS = 5000;

export type Message = JobMessage | ResultMessage | CreditMessage | TestResultMessage | ReactionTestMessage | ReactionTestedMessage;

/** Why a message was refused: the counter name of `bad_messages.<reason>`. */
export type BadMessageReason = 'malformed_json' | 'unknown_version' | 'missing_field' | 'unexpected_type' | 'bad_value' | 'too_large' | 'clock';

/** A message refused by `decode`; `reason` is a counter name, the message goes to the log. */
export class BadMessage extends CloudRoutesError {
  constructor(readonly reason: BadMessageReason, detail: string, field?: string) {
    super('CR_BAD_MESSAGE', detail, false);
    this.field = field;
  }
}

/** The bounds a message's values must keep: a monitor's own limits (core/limits), plus what only messages need. */
export const MESSAGE_LIMITS = {
  idLength: MAX_ID_LENGTH,
  nameLength: MAX_NAME_LENGTH,
  messageLength: MAX_MESSAGE_LENGTH,
  dataBytes: MAX_DATA_BYTES,
  timeoutMs: MAX_TIMEOUT_MS,
  intervalS: MAX_INTERVAL_S,
  /** How far a time stamp may be from the receiver's clock. */
  clockSkewMs: 24 * 3600_000,
  metrics: 100,
  credit: 1_000_000,
} as const;

/** The statuses a result may carry. */
export const STATUSES: ReadonlySet<string> = new Set(STATUS_VALUES);
const L = MESSAGE_LIMITS;
/** Longest message a reaction run keeps (src/sink/run-reaction.ts). */
export const MAX_REACTION_MESSAGE = 4000;

/** A check of one field: undefined when fine, else [reason, what it must be]. */
type Check = (v: unknown, now: number) => [BadMessageReason, string] | undefined;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (max: number, min = 0): Check => (v) =>
  typeof v !== 'string' ? ['missing_field', 'a string'] : v.length < min || v.length > max ? ['bad_value', `a string of ${min}..${max} characters`] : undefined;
const plainName = (max: number): Check => (v) =>
  typeof v !== 'string' ? ['missing_field', 'a string'] : v.length > max || !PLAIN_NAME.test(v) ? ['bad_value', `a plain name (${PLAIN_NAME.source}, at most ${max} characters)`] : undefined;
const int = (min: number, max: number): Check => (v) =>
  typeof v !== 'number' ? ['missing_field', 'a number'] : !Number.isInteger(v) || v < min || v > max ? ['bad_value', `an integer ${min}..${max}`] : undefined;
/** Job numbers a broker gave (uint32), at most as many as a worker may hold. */
const jobNumbers: Check = (v) =>
  !Array.isArray(v) ? ['bad_value', 'an array of job numbers']
    : v.length > L.credit ? ['too_large', `at most ${L.credit} job numbers`]
      : v.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff) ? undefined : ['bad_value', 'job numbers are integers 0..4294967295'];
const stamp: Check = (v, now) => {
  if (typeof v !== 'number') return ['missing_field', 'a number (epoch ms)'];
  if (!Number.isInteger(v)) return ['bad_value', 'an integer (epoch ms)'];
  return Math.abs(v - now) > L.clockSkewMs ? ['clock', "epoch ms within a day of the receiver's clock"] : undefined;
};
const optional = (check: Check): Check => (v, now) => (v === undefined ? undefined : check(v, now));
const data: Check = (v) => (isObj(v) ? undefined : ['missing_field', 'an object']);
const latency: Check = (v) =>
  v === null ? undefined : typeof v !== 'number' ? ['missing_field', 'a number or null'] : !Number.isFinite(v) || v < 0 || v > L.clockSkewMs ? ['bad_value', 'a non-negative number of ms or null'] : undefined;
const metrics: Check = (v) => {
  if (!isObj(v)) return ['missing_field', 'an object of numbers'];
  const entries = Object.entries(v);
  if (entries.length > L.metrics) return ['bad_value', `at most ${L.metrics} numbers`];
  return entries.every(([k, n]) => k.length <= L.idLength && typeof n === 'number' && Number.isFinite(n)) ? undefined : ['bad_value', 'an object of finite numbers'];
};

/** A test run's id: made by the caller (a UUID), part of a Redis key. */
const testId: Check = (v) =>
  typeof v !== 'string' ? ['missing_field', 'a string'] : /^[A-Za-z0-9-]{8,64}$/.test(v) ? undefined : ['bad_value', 'a test id (8..64 letters, digits and dashes)'];
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : ['missing_field', 'true or false']);
const oneOf = (values: readonly string[]): Check => (v) =>
  values.includes(v as string) ? undefined : [typeof v === 'string' ? 'bad_value' : 'missing_field', values.join(', ')];
const status: Check = (v) => (STATUSES.has(v as string) ? undefined : [typeof v === 'string' ? 'bad_value' : 'missing_field', 'healthy, failed or unknown']);

const RESULT_FIELDS: [string, Check][] = [
  ['monitorId', text(L.idLength, 1)], ['zone', plainName(L.idLength)], ['status', status],
  ['message', text(L.messageLength)], ['latencyMs', latency], ['metrics', optional(metrics)], ['due', stamp], ['checkedAt', stamp],
];

const FIELDS: Record<Message['type'], [string, Check][]> = {
  job: [
    ['monitorId', text(L.idLength, 1)], ['name', text(L.nameLength)], ['ctype', plainName(L.idLength)], ['data', data],
    ['timeoutMs', int(MIN_TIMEOUT_MS, L.timeoutMs)], ['zone', plainName(L.idLength)], ['due', stamp], ['sent', stamp],
    ['interval', int(MIN_INTERVAL_S, L.intervalS)], ['createdAt', optional(int(0, Number.MAX_SAFE_INTEGER))],
    ['test', optional(testId)], ['record', optional(bool)],
  ],
  result: RESULT_FIELDS,
  credit: [['free', int(0, L.credit)], ['received', int(0, Number.MAX_SAFE_INTEGER)], ['done', optional(jobNumbers)]],
  'test-result': [['test', testId], ...RESULT_FIELDS, ['worker', text(L.nameLength, 1)], ['recorded', bool]],
  'reaction-test': [
    ['test', testId], ['reactionId', text(L.idLength, 1)], ['monitorId', text(L.idLength, 1)], ['status', oneOf(['failed', 'healthy'])],
    ['by', text(L.nameLength, 1)], ['sent', stamp],
  ],
  'reaction-tested': [
    ['test', testId], ['reactionId', text(L.idLength, 1)], ['monitorId', text(L.idLength, 1)], ['outcome', oneOf(['ran', 'failed', 'skipped', 'dry-run'])],
    ['message', text(MAX_REACTION_MESSAGE)], ['tookMs', int(0, L.clockSkewMs)], ['sink', text(L.nameLength, 1)],
  ],
};

/**
 * Parses and validates one message, values as well as types; `expect` lists the types this socket accepts.
 * `now` is the receiver's clock, which time stamps must be within a day of. Throws BadMessage.
 */
export function decode<T extends Message['type']>(raw: Buffer | string, expect: readonly T[], now = Date.now()): Extract<Message, { type: T }> {
  let msg: unknown;
  try {
    msg = JSON.parse(raw.toString());
  } catch (err) {
    throw new BadMessage('malformed_json', `not JSON: ${(err as Error).message}`);
  }
  if (!isObj(msg)) throw new BadMessage('malformed_json', 'not a JSON object');
  if (msg.v !== PROTOCOL_VERSION) throw new BadMessage('unknown_version', `protocol version ${JSON.stringify(msg.v)?.slice(0, 20)} is not ${PROTOCOL_VERSION}`);
  const type = msg.type as T;
  if (!expect.includes(type)) throw new BadMessage('unexpected_type', `type ${JSON.stringify(msg.type)?.slice(0, 40)} is not one of ${expect.join(', ')}`);
  checkFields(type, msg, now);
  if (type === 'job' && msg.record !== undefined && msg.test === undefined) throw new BadMessage('bad_value', 'job field "record" is only for a test job (one with "test")', 'record');
  if (type === 'job') checkJobData(msg.data, typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length);
  return msg as unknown as Extract<Message, { type: T }>;
}

/** Throws BadMessage naming the first field of `msg` whose value a message of `type` may not carry. */
export function checkFields(type: Message['type'], msg: Record<string, unknown>, now = Date.now()): void {
  for (const [name, check] of FIELDS[type]) {
    const problem = check(msg[name], now);
    if (problem) throw new BadMessage(problem[0], `${type} field "${name}" must be ${problem[1]}`, name);
  }
}

/**
 * Throws BadMessage (too_large) when a job's `data` is more than MAX_DATA_BYTES of JSON. `boundBytes` is the size of
 * JSON known to hold it (a whole message, a monitor's config): within the limit, the data needs no measuring.
 */
export function checkJobData(data: unknown, boundBytes = Infinity): void {
  if (boundBytes > L.dataBytes && dataBytes(data) > L.dataBytes) {
    throw new BadMessage('too_large', `job field "data" must be at most ${L.dataBytes} bytes of JSON`, 'data');
  }
}

/** The job that checks `monitor` for slot `due` (sent at `sent`), as a control sends it; `defaultTimeoutMs` when its data sets none. */
export function jobOf(monitor: Monitor, zone: string, due: number, sent: number, defaultTimeoutMs: number): JobMessage {
  return {
    v: 1, type: 'job', monitorId: monitor.id, name: monitor.name, ctype: monitor.ctype, data: monitor.data,
    timeoutMs: jobTimeoutMs(monitor, defaultTimeoutMs), zone, due, sent, interval: monitor.interval, createdAt: monitor.createdAt,
  };
}

export function encode(msg: Message): string {
  return JSON.stringify(msg);
}

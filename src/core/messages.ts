/** The JSON messages on the ZeroMQ sockets, each with protocol version `v`, and their strict decoders. */
import type { Status } from './types.js';

export const PROTOCOL_VERSION = 1;

/** control -> broker -> worker: check one monitor. Data keeps its secret fields encrypted. */
export interface JobMessage {
  v: 1;
  type: 'job';
  monitorId: string;
  name: string;
  ctype: string;
  data: Record<string, unknown>;
  timeoutMs: number;
  zone: string;
  /** Due time in the schedule, epoch ms. */
  due: number;
  /** When the control sent it, epoch ms. */
  sent: number;
  /** The monitor's interval in seconds and creation time (epoch ms), for checks that judge time since a signal. */
  interval?: number;
  createdAt?: number;
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
 * stays exact across lost messages and broker restarts.
 */
export interface CreditMessage {
  v: 1;
  type: 'credit';
  free: number;
  received: number;
}

export type Message = JobMessage | ResultMessage | CreditMessage;

/** Why a message was refused; `reason` is a counter name, `detail` goes to the log. */
export class BadMessage extends Error {
  constructor(readonly reason: 'malformed_json' | 'unknown_version' | 'missing_field' | 'unexpected_type', readonly detail: string) {
    super(detail);
  }
}

const STATUSES = new Set(['healthy', 'failed', 'unknown']);

type Field = [name: string, check: (v: unknown) => boolean, expected: string];
const str: Field[1] = (v) => typeof v === 'string' && v.length > 0;
const num: Field[1] = (v) => typeof v === 'number' && Number.isFinite(v);
const obj: Field[1] = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

const FIELDS: Record<Message['type'], Field[]> = {
  job: [
    ['monitorId', str, 'a string'], ['name', (v) => typeof v === 'string', 'a string'], ['ctype', str, 'a string'],
    ['data', obj, 'an object'], ['timeoutMs', num, 'a number'], ['zone', str, 'a string'], ['due', num, 'a number'], ['sent', num, 'a number'],
  ],
  result: [
    ['monitorId', str, 'a string'], ['zone', str, 'a string'], ['status', (v) => STATUSES.has(v as string), 'healthy, failed or unknown'],
    ['message', (v) => typeof v === 'string', 'a string'], ['latencyMs', (v) => v === null || num(v), 'a number or null'],
    ['due', num, 'a number'], ['checkedAt', num, 'a number'],
  ],
  credit: [
    ['free', (v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer'],
    ['received', (v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer'],
  ],
};

/** Parses and validates one message; `expect` lists the types this socket accepts. Throws BadMessage. */
export function decode<T extends Message['type']>(raw: Buffer | string, expect: readonly T[]): Extract<Message, { type: T }> {
  let msg: unknown;
  try {
    msg = JSON.parse(raw.toString());
  } catch (err) {
    throw new BadMessage('malformed_json', `not JSON: ${(err as Error).message}`);
  }
  if (!obj(msg)) throw new BadMessage('malformed_json', 'not a JSON object');
  const m = msg as Record<string, unknown>;
  if (m.v !== PROTOCOL_VERSION) throw new BadMessage('unknown_version', `protocol version ${JSON.stringify(m.v)} is not ${PROTOCOL_VERSION}`);
  if (!expect.includes(m.type as T)) throw new BadMessage('unexpected_type', `type ${JSON.stringify(m.type)} is not one of ${expect.join(', ')}`);
  for (const [name, check, expected] of FIELDS[m.type as T]) {
    if (!check(m[name])) throw new BadMessage('missing_field', `${m.type} field "${name}" must be ${expected}`);
  }
  return m as unknown as Extract<Message, { type: T }>;
}

export function encode(msg: Message): string {
  return JSON.stringify(msg);
}

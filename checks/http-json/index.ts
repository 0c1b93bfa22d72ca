/** Check: a value at a path in the JSON response of an HTTP request compares as expected. */
import { isDeepStrictEqual } from 'node:util';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { badUrl, httpOptionFields, httpOptions, httpUrl, redirectableUrlField, timeLimit } from '../../plugin-support/fields.js';
import { probe } from '../_shared/http-probe.js';

const MAX_BODY = 1 << 20;
const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains'] as const;
type Op = (typeof OPS)[number];
const PATH_PATTERN = '^[^.\\[\\]]+(\\[[0-9]+\\])*(\\.[^.\\[\\]]+(\\[[0-9]+\\])*)*$';

export const meta: PluginMeta = {
  title: 'HTTP JSON value',
  description:
    'Sends a GET (or a POST with a body) to the URL over a new connection, parses the response body as JSON (at most ' +
    '1 MiB) and compares the value at path (dotted names with array indexes: "data.items[0].status") with expected ' +
    'using op: eq (default) and ne compare JSON values exactly, except that a string expected also matches a number or ' +
    'boolean with that text; lt, le, gt and ge need numbers; contains looks for a substring in a string or an equal ' +
    'element in an array. The check fails naming the path, the value got and the one expected, and also when the body ' +
    'is not JSON or the path does not exist. The status code is reported, not judged. Refused connections, DNS and TLS ' +
    'errors and timeouts fail the check.',
  fields: {
    type: 'object',
    properties: {
      url: redirectableUrlField,
      path: { type: 'string', description: 'Where the value is: names separated by dots, [n] for array elements ("data.items[0].status").', pattern: PATH_PATTERN },
      expected: { description: 'The value to compare with: a string, number, boolean, null, or for eq/ne/contains any JSON value.' },
      op: { type: 'string', description: 'Comparison of the value got with expected: eq (default), ne, lt, le, gt, ge, contains.', enum: [...OPS], default: 'eq' },
      method: { type: 'string', description: 'GET (default) or POST.', enum: ['GET', 'POST'], default: 'GET' },
      body: { type: 'string', description: 'Request body for POST, sent as is.' },
      contentType: { type: 'string', description: 'Content-Type of the body (default application/json).', minLength: 1, format: 'http-header-value', default: 'application/json' },
      ...httpOptionFields,
    },
    required: ['url', 'path', 'expected'],
    additionalProperties: false,
  },
};

type Step = string | number;

/** Parses "a.b[0].c" into steps, or returns undefined when the path is malformed. */
export function parsePath(path: string): Step[] | undefined {
  if (!new RegExp(PATH_PATTERN).test(path)) return undefined;
  const steps: Step[] = [];
  for (const part of path.split('.')) {
    const name = /^[^[]+/.exec(part)![0];
    steps.push(name);
    for (const m of part.slice(name.length).matchAll(/\[(\d+)\]/g)) steps.push(Number(m[1]));
  }
  return steps;
}

/** The value at `steps` in `root`, or `found: false` when a step is missing. */
export function valueAt(root: unknown, steps: Step[]): { found: boolean; value?: unknown } {
  let value = root;
  for (const step of steps) {
    if (typeof step === 'number' ? !Array.isArray(value) || step >= value.length : value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step)) {
      return { found: false };
    }
    value = (value as Record<string | number, unknown>)[step];
  }
  return { found: true, value };
}

const SYMBOL: Record<Op, string> = { eq: '', ne: 'not ', lt: '< ', le: '<= ', gt: '> ', ge: '>= ', contains: 'to contain ' };

function equal(got: unknown, expected: unknown): boolean {
  if (typeof expected === 'string' && (typeof got === 'number' || typeof got === 'boolean')) return String(got) === expected;
  return isDeepStrictEqual(got, expected);
}

function toNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Whether `got op expected` holds; a string says why the comparison cannot be made. */
export function compare(op: Op, got: unknown, expected: unknown): boolean | string {
  switch (op) {
    case 'eq':
      return equal(got, expected);
    case 'ne':
      return !equal(got, expected);
    case 'contains':
      if (typeof got === 'string') return got.includes(typeof expected === 'string' ? expected : JSON.stringify(expected));
      if (Array.isArray(got)) return got.some((e) => equal(e, expected));
      return 'contains needs a string or an array';
  }
  const a = toNumber(got);
  const b = toNumber(expected);
  if (a === undefined || b === undefined) return `${op} needs numbers`;
  return op === 'lt' ? a < b : op === 'le' ? a <= b : op === 'gt' ? a > b : a >= b;
}

/** Requests data.url, reads the JSON body and compares the value at data.path with data.expected. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const url = httpUrl(job);
  if (!url) return badUrl(job);
  const pathText = job.data.path;
  const steps = typeof pathText === 'string' ? parsePath(pathText) : undefined;
  if (!steps) return { status: 'unknown', message: `monitor "${job.name}": data.path ${JSON.stringify(pathText)} is not a path like "data.items[0].status"` };
  const op = (OPS as readonly unknown[]).includes(job.data.op) ? (job.data.op as Op) : 'eq';
  const expected = job.data.expected;
  const post = job.data.method === 'POST';
  const contentType = typeof job.data.contentType === 'string' ? job.data.contentType : 'application/json';
  const given = job.data.headers as Record<string, string> | undefined;
  const res = await probe({
    url,
    method: post ? 'POST' : 'GET',
    body: post ? (typeof job.data.body === 'string' ? job.data.body : '') : undefined,
    headers: post ? { 'content-type': contentType, ...given } : given,
    maxBodyBytes: MAX_BODY,
    keepBody: true,
    timeoutMs: timeLimit(job),
    signal: ctx.signal,
    ...httpOptions(job),
  });
  const { latencyMs, metrics } = res;
  if (res.unusable) return { status: 'unknown', message: `monitor "${job.name}": ${res.error}`, latencyMs, metrics };
  if (res.error || !res.body) return { status: 'failed', message: res.error ?? 'no body', latencyMs, metrics };
  const http = `HTTP ${res.statusCode}`;
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch (err) {
    const why = res.truncated ? 'the body is over 1 MiB and was cut' : (err as Error).message;
    return { status: 'failed', message: `the response is not JSON (${http}): ${why}`, latencyMs, metrics };
  }
  const at = valueAt(doc, steps);
  if (!at.found) return { status: 'failed', message: `${pathText} does not exist in the response (${http})`, latencyMs, metrics };
  const got = JSON.stringify(at.value) ?? 'undefined';
  const ok = compare(op, at.value, expected);
  if (ok === true) return { status: 'healthy', message: `${pathText} is ${got} (${http})`, latencyMs, metrics };
  const reason = typeof ok === 'string' ? ` (${ok})` : '';
  return { status: 'failed', message: `${pathText}: got ${got}, expected ${SYMBOL[op]}${JSON.stringify(expected)}${reason} (${http})`, latencyMs, metrics };
}

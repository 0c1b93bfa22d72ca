/** Check: a DNS name resolves, optionally to an expected set of records, through a given server. */
import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { AnyRecord } from 'node:dns';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../../plugin-support/fields.js';
import { ms } from '../../plugin-support/net-errors.js';

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SRV', 'TXT'] as const;
type RecordType = (typeof RECORD_TYPES)[number];

export const meta: PluginMeta = {
  title: 'DNS lookup',
  description:
    'Asks a DNS server (server, an IP address with an optional port; default the resolvers of the worker\'s machine) for ' +
    'the recordType records (default A) of name. Healthy when the server answers with at least one record and, when ' +
    'expected is set, the answer matches it: with match "exact" (default) the answer set must equal expected, in any ' +
    'order; with "includes" every expected record must be among the answers. Records are compared as strings: A and AAAA ' +
    'as addresses, CNAME, NS and PTR as names, MX as "<priority> <exchange>" ("10 mail.example.com"), SRV as ' +
    '"<priority> <weight> <port> <target>" ("1 5 5060 sip.example.com"), TXT as its strings joined without a separator; ' +
    'names and IPv6 addresses without regard to case or a trailing dot. Failed on no such name (NXDOMAIN), no records of ' +
    'that type, a refused, failed or missing answer, or an answer that differs, with expected and received records. ' +
    'Metrics: resolveMs, records.',
  fields: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'Name to look up, e.g. "www.example.com"; for PTR an IP address also works.', minLength: 1, pattern: '^[^\\s]+$' },
      recordType: { type: 'string', description: 'Record type, default "A".', enum: [...RECORD_TYPES], default: 'A' },
      server: {
        type: 'string',
        description: 'DNS server to ask: an IP address, with an optional port ("10.0.0.53", "10.0.0.53:5353", "[fd00::53]:53"); default the system resolvers.',
        pattern: '^(\\d{1,3}(\\.\\d{1,3}){3}(:\\d{1,5})?|\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$',
      },
      expected: {
        type: 'array',
        description: 'Records the answer must hold, rendered as described above, e.g. ["10.0.0.1", "10.0.0.2"] or ["10 mail.example.com"].',
        items: { type: 'string', minLength: 1 },
      },
      match: {
        type: 'string',
        description: '"exact" (default): the answer set equals expected; "includes": every expected record is in the answer, others may be too.',
        enum: ['exact', 'includes'],
        default: 'exact',
      },
      timeoutMs: timeoutField,
    },
    required: ['name'],
    additionalProperties: false,
  },
};

/** A record as the string that expected holds. */
function render(type: RecordType, rec: unknown): string {
  const r = rec as Record<string, unknown>;
  switch (type) {
    case 'MX':
      return `${r.priority} ${r.exchange}`;
    case 'SRV':
      return `${r.priority} ${r.weight} ${r.port} ${r.name}`;
    case 'TXT':
      return (rec as string[]).join('');
    default:
      return String(rec);
  }
}

/** The form two records are compared in: names and addresses ignore case and a trailing dot; TXT is kept as is. */
function canonical(type: RecordType, text: string): string {
  if (type === 'TXT') return text;
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '');
  if (type === 'AAAA' && isIP(t) === 6) return new URL(`http://[${t}]`).hostname.slice(1, -1);
  return t;
}

const CODES: Record<string, string> = {
  ENOTFOUND: 'no such name (NXDOMAIN)',
  ENODATA: 'no RECORDS records',
  EREFUSED: 'the server refused the query (REFUSED)',
  ESERVFAIL: 'the server failed to answer (SERVFAIL)',
  ECONNREFUSED: 'connection refused (ECONNREFUSED)',
  ETIMEOUT: 'no answer (ETIMEOUT)',
  EBADRESP: 'a malformed answer (EBADRESP)',
};

/** Looks up data.name's data.recordType records; failed on an error or an answer other than data.expected. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const data = job.data;
  const name = typeof data.name === 'string' ? data.name.trim() : '';
  const type = (data.recordType ?? 'A') as RecordType;
  if (!name || !RECORD_TYPES.includes(type)) {
    return { status: 'unknown', message: `monitor "${job.name}": data.name must be a name and data.recordType one of ${RECORD_TYPES.join(', ')}` };
  }
  const limit = timeLimit(job);
  // c-ares backs off between tries on its own; our timer below is what holds the limit.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(limit / 2)), tries: 2 });
  if (typeof data.server === 'string') {
    const port = /(?:^[\d.]+|\]):(\d+)$/.exec(data.server)?.[1];
    try {
      if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new Error(`port ${port} is out of range`);
      resolver.setServers([data.server]);
    } catch (err) {
      return { status: 'unknown', message: `monitor "${job.name}": data.server ${JSON.stringify(data.server)} is not an IP address with an optional port: ${(err as Error).message}` };
    }
  }
  const server = typeof data.server === 'string' ? data.server : `the system resolvers (${resolver.getServers().join(', ') || 'none'})`;
  const query = `${name} ${type}`;
  const t0 = performance.now();
  let timedOut = false;
  const onDeadline = (): void => {
    timedOut = true;
    resolver.cancel();
  };
  if (ctx.signal.aborted) return { status: 'failed', message: `${query} at ${server}: timed out after 0 ms (the job's deadline had passed)` };
  const timer = setTimeout(onDeadline, limit);
  ctx.signal.addEventListener('abort', onDeadline, { once: true });
  let answer: unknown[];
  try {
    answer = type === 'PTR' && isIP(name) ? await resolver.reverse(name) : ((await resolver.resolve(name, type)) as AnyRecord[] | string[]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const elapsed = Math.round(performance.now() - t0);
    const reason =
      timedOut || code === 'ECANCELLED'
        ? `timed out after ${elapsed} ms`
        : (CODES[code]?.replace('RECORDS', type) ?? `${code || 'error'}: ${(err as Error).message}`);
    return { status: 'failed', message: `${query} at ${server}: ${reason}`, latencyMs: ms(performance.now() - t0), metrics: { resolveMs: ms(performance.now() - t0), records: 0 } };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onDeadline);
  }
  const resolveMs = ms(performance.now() - t0);
  const metrics = { resolveMs, records: answer.length };
  if (!answer.length) return { status: 'failed', message: `${query} at ${server}: no ${type} records`, latencyMs: resolveMs, metrics };
  const got = answer.map((rec) => render(type, rec)).sort();
  const list = (items: string[]): string => items.map((s) => JSON.stringify(s)).join(', ');
  const expected = Array.isArray(data.expected) ? (data.expected as string[]) : undefined;
  if (expected) {
    const gotSet = new Set(got.map((g) => canonical(type, g)));
    const wantSet = new Set(expected.map((e) => canonical(type, e)));
    const missing = expected.filter((e) => !gotSet.has(canonical(type, e)));
    const extra = got.filter((g) => !wantSet.has(canonical(type, g)));
    if (missing.length || (data.match !== 'includes' && extra.length)) {
      const want = data.match === 'includes' ? 'expected to include' : 'expected';
      return {
        status: 'failed',
        message: `${query} at ${server}: ${want} [${list(expected)}], got [${list(got)}]`,
        latencyMs: resolveMs,
        metrics,
      };
    }
  }
  return { status: 'healthy', message: `${query} at ${server}: ${list(got)}`, latencyMs: resolveMs, metrics };
}

/** Check: an HTTP GET over a fresh connection answers with an expected status code. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { badUrl, httpOptionFields, httpOptions, httpUrl, redirectableUrlField, timeLimit } from '../../plugin-support/fields.js';
import { probe } from '../_shared/http-probe.js';

export const meta: PluginMeta = {
  title: 'HTTP status code',
  description:
    'Sends a GET request to the URL over a new connection (no keep-alive, full TLS handshake), as a new client would, ' +
    'and is healthy when the response status is one of the expected codes. Codes are exact ("204") or patterns with x ' +
    'for any digit ("2xx", "30x"). Refused connections, DNS failures, TLS errors and timeouts fail the check with the ' +
    'reason. At most 1 MiB of the body is read. Metrics: dnsMs, connectMs, tlsMs, waitMs, transferMs, bytes.',
  fields: {
    type: 'object',
    properties: {
      url: redirectableUrlField,
      codes: {
        type: 'array',
        description: 'Status codes that count as healthy: exact ("200") or patterns ("2xx"). Default ["200"].',
        items: { type: 'string', pattern: '^[1-5][0-9xX][0-9xX]$' },
        default: ['200'],
      },
      ...httpOptionFields,
    },
    required: ['url'],
    additionalProperties: false,
  },
};

const DEFAULT_CODES = ['200'];
const MAX_BODY = 1 << 20;

/** True when `status` matches the code pattern ("200", "2xx"). */
export function codeMatches(pattern: string, status: number): boolean {
  const got = String(status);
  if (pattern.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const p = pattern[i];
    if (p !== 'x' && p !== 'X' && p !== got[i]) return false;
  }
  return true;
}

/** GETs data.url on a fresh connection; healthy when the status is in data.codes. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const url = httpUrl(job);
  if (!url) return badUrl(job);
  const codes = Array.isArray(job.data.codes) && job.data.codes.length ? (job.data.codes as string[]) : DEFAULT_CODES;
  const headers = job.data.headers as Record<string, string> | undefined;
  const res = await probe({ url, headers, maxBodyBytes: MAX_BODY, keepBody: false, timeoutMs: timeLimit(job), signal: ctx.signal, ...httpOptions(job) });
  const { latencyMs, metrics } = res;
  if (res.unusable) return { status: 'unknown', message: `monitor "${job.name}": ${res.error}`, latencyMs, metrics };
  if (res.error) return { status: 'failed', message: res.error, latencyMs, metrics };
  if (codes.some((c) => codeMatches(c, res.statusCode))) return { status: 'healthy', message: `HTTP ${res.statusCode}`, latencyMs, metrics };
  return { status: 'failed', message: `got HTTP ${res.statusCode}, expected ${codes.join(' or ')}`, latencyMs, metrics };
}

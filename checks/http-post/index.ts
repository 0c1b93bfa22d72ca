/** Check: an HTTP POST (or PUT/PATCH) of a body over a fresh connection answers with an expected status code. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { badUrl, httpOptionFields, httpOptions, httpUrl, redirectableUrlField, timeLimit } from '../../plugin-support/fields.js';
import { probe } from '../_shared/http-probe.js';
import { codeMatches, meta as statusMeta } from '../http-get-statuscode/index.js';

export const meta: PluginMeta = {
  title: 'HTTP POST',
  description:
    'Sends a POST (or PUT or PATCH, with method) request carrying the body to the URL over a new connection (no ' +
    'keep-alive, full TLS handshake) and is healthy when the response status is one of the expected codes, exact ' +
    '("201") or patterns with x for any digit ("2xx"). The body is sent as given with the content type (default ' +
    'application/json). Refused connections, DNS failures, TLS errors and timeouts fail the check with the reason. ' +
    'At most 1 MiB of the response body is read. Metrics: dnsMs, connectMs, tlsMs, waitMs, transferMs, bytes.',
  fields: {
    type: 'object',
    properties: {
      url: redirectableUrlField,
      method: { type: 'string', description: 'Request method: POST (default), PUT or PATCH.', enum: ['POST', 'PUT', 'PATCH'], default: 'POST' },
      body: { type: 'string', description: 'Request body, sent as is (default empty).', default: '' },
      contentType: { type: 'string', description: 'Content-Type of the body (default application/json).', minLength: 1, format: 'http-header-value', default: 'application/json' },
      codes: statusMeta.fields.properties!.codes!,
      ...httpOptionFields,
    },
    required: ['url'],
    additionalProperties: false,
  },
};

const DEFAULT_CODES = ['200'];
const MAX_BODY = 1 << 20;

/** Sends data.body to data.url on a fresh connection; healthy when the status is in data.codes. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const url = httpUrl(job);
  if (!url) return badUrl(job);
  const codes = Array.isArray(job.data.codes) && job.data.codes.length ? (job.data.codes as string[]) : DEFAULT_CODES;
  const method = typeof job.data.method === 'string' ? job.data.method : 'POST';
  const body = typeof job.data.body === 'string' ? job.data.body : '';
  const contentType = typeof job.data.contentType === 'string' ? job.data.contentType : 'application/json';
  const headers = { 'content-type': contentType, ...(job.data.headers as Record<string, string> | undefined) };
  const res = await probe({
    url,
    method,
    body,
    headers,
    maxBodyBytes: MAX_BODY,
    keepBody: false,
    timeoutMs: timeLimit(job),
    signal: ctx.signal,
    ...httpOptions(job),
  });
  const { latencyMs, metrics } = res;
  if (res.unusable) return { status: 'unknown', message: `monitor "${job.name}": ${res.error}`, latencyMs, metrics };
  if (res.error) return { status: 'failed', message: res.error, latencyMs, metrics };
  if (codes.some((c) => codeMatches(c, res.statusCode))) return { status: 'healthy', message: `HTTP ${res.statusCode}`, latencyMs, metrics };
  return { status: 'failed', message: `got HTTP ${res.statusCode}, expected ${codes.join(' or ')}`, latencyMs, metrics };
}

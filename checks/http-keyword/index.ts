/** Check: the body of an HTTP GET over a fresh connection contains (or lacks) a keyword. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { badUrl, httpOptionFields, httpOptions, httpUrl, redirectableUrlField, timeLimit } from '../../plugin-support/fields.js';
import { probe } from '../_shared/http-probe.js';

const MAX_BODY = 1 << 20;

export const meta: PluginMeta = {
  title: 'HTTP keyword',
  description:
    'Sends a GET request to the URL over a new connection (no keep-alive, full TLS handshake) and reads at most the ' +
    'first 1 MiB of the body. With present true (the default) the check is healthy when the body contains the keyword, ' +
    'with present false when it does not. The match is exact and case-sensitive, on the raw bytes (UTF-8 keyword); the ' +
    'status code is reported but not judged. Refused connections, DNS failures, TLS errors and timeouts fail the check.',
  fields: {
    type: 'object',
    properties: {
      url: redirectableUrlField,
      keyword: { type: 'string', description: 'Text to look for in the body (case-sensitive).', minLength: 1 },
      present: { type: 'boolean', description: 'true: healthy when the keyword is found; false: healthy when it is absent. Default true.', default: true },
      ...httpOptionFields,
    },
    required: ['url', 'keyword'],
    additionalProperties: false,
  },
};

/** GETs data.url on a fresh connection; healthy when the keyword's presence is as data.present wants. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const url = httpUrl(job);
  if (!url) return badUrl(job);
  const keyword = job.data.keyword;
  if (typeof keyword !== 'string' || !keyword) {
    return { status: 'unknown', message: `monitor "${job.name}": data.keyword must be a non-empty string` };
  }
  const wanted = job.data.present !== false;
  const headers = job.data.headers as Record<string, string> | undefined;
  const res = await probe({ url, headers, maxBodyBytes: MAX_BODY, keepBody: true, timeoutMs: timeLimit(job), signal: ctx.signal, ...httpOptions(job) });
  const { latencyMs, metrics } = res;
  if (res.unusable) return { status: 'unknown', message: `monitor "${job.name}": ${res.error}`, latencyMs, metrics };
  if (res.error || !res.body) return { status: 'failed', message: res.error ?? 'no body', latencyMs, metrics };
  const found = res.body.includes(keyword);
  const where = `HTTP ${res.statusCode}, ${res.truncated ? 'first 1 MiB of the body' : `${res.body.length} bytes of body`}`;
  const message = `keyword ${JSON.stringify(keyword)} ${found ? 'found' : 'not found'} (${where})`;
  return { status: found === wanted ? 'healthy' : 'failed', message, latencyMs, metrics };
}

/** Schema pieces and data readers shared by the built-in checks and reactions. */
import type { CheckJob, FieldSchema } from '../src/core/types.js';

/** An http:// or https:// address with a host, as `new URL()` reads it. */
export function httpUrlField(description: string, more: Partial<FieldSchema> = {}): FieldSchema {
  return { type: 'string', description, format: 'http-url', ...more };
}

export const urlField: FieldSchema = httpUrlField('Address to request, http:// or https:// (redirects are not followed).');

/** Request headers, name to value, each name and value as HTTP allows; stored encrypted. */
export const headersField: FieldSchema = {
  type: 'object',
  description: 'Extra request headers, name to value (e.g. {"authorization": "Bearer ..."}); stored encrypted.',
  propertyNames: { type: 'string', format: 'http-header-name' },
  additionalProperties: { type: 'string', format: 'http-header-value' },
  secret: true,
  boundTo: { origin: 'url' },
};

export const timeoutField: FieldSchema = {
  type: 'integer',
  description: "Milliseconds before the check gives up; the job's own deadline still applies when it is shorter.",
  minimum: 1,
  maximum: 300_000,
};

/** The check's time limit: data.timeoutMs when set, capped by the job's deadline. */
export function timeLimit(job: CheckJob): number {
  const own = job.data.timeoutMs;
  return typeof own === 'number' && own > 0 ? Math.min(own, job.timeoutMs) : job.timeoutMs;
}

/** Parses data.url, or returns undefined when it is not an http(s) URL. */
export function httpUrl(job: CheckJob): URL | undefined {
  const raw = job.data.url;
  if (typeof raw !== 'string') return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The result for a URL the check cannot use: the check could not run. */
export function badUrl(job: CheckJob): { status: 'unknown'; message: string } {
  return { status: 'unknown', message: `monitor "${job.name}": data.url ${JSON.stringify(job.data.url)} is not an http:// or https:// URL` };
}

export const followRedirectsField: FieldSchema = {
  type: 'boolean',
  description: 'true: follow up to 5 redirects (each over a new connection) and judge the last response; default false (the redirect itself is judged).',
  default: false,
};

export const tlsVerifyField: FieldSchema = {
  type: 'boolean',
  description: 'false: accept any server certificate (self-signed, expired, another host name); default true.',
  default: true,
};

/** The probe options for data.followRedirects and data.tlsVerify. */
export function httpOptions(job: CheckJob): { followRedirects: boolean; tlsVerify: boolean } {
  return { followRedirects: job.data.followRedirects === true, tlsVerify: job.data.tlsVerify !== false };
}

/** An HTTP check's headers: an edit keeping them may not change tlsVerify either (the reactions have no tlsVerify). */
const checkHeadersField: FieldSchema = { ...headersField, boundTo: { origin: 'url', also: ['tlsVerify'] } };

/** The request options every HTTP check takes: headers, followRedirects, tlsVerify, timeoutMs. */
export const httpOptionFields: Record<string, FieldSchema> = {
  headers: checkHeadersField,
  followRedirects: followRedirectsField,
  tlsVerify: tlsVerifyField,
  timeoutMs: timeoutField,
};

/** urlField for the checks that take followRedirects. */
export const redirectableUrlField: FieldSchema = {
  ...urlField,
  description: 'Address to request, http:// or https:// (redirects are followed only with followRedirects).',
};

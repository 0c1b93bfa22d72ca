/** How errors look over HTTP: a status and `{"error": {"code", "message", "field"?}}` naming what is wrong. */
import { CloudRoutesError, errors, httpStatus } from '../core/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function bodyOf(err: CloudRoutesError): ErrorBody {
  return { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
}

/** The status and body for any error thrown while handling a request. */
export function toHttp(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof CloudRoutesError) return { status: httpStatus(err), body: bodyOf(err) };
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: { instancePath?: string; params?: Record<string, unknown> }[] };
  if (e.validation) {
    const v = e.validation[0];
    const path = (v?.instancePath ?? '').split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
    const extra = v?.params?.missingProperty ?? v?.params?.additionalProperty;
    const field = `${path}${extra ? `.${String(extra)}` : ''}`.replace(/^\./, '') || undefined;
    const message = `${e.message ?? 'bad request'}${v?.params?.additionalProperty ? ` (${String(v.params.additionalProperty)})` : ''}`;
    return toHttp(errors.badRequest(message, field));
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return toHttp(errors.badBody(e.message));
  }
  // Fastify's own refusals (a body over the limit, a bad content type) keep their status and FST_ code.
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const body = e.code ? { error: { code: e.code, message: e.message ?? 'bad request' } } : bodyOf(errors.badRequest(e.message ?? 'bad request'));
    return { status: e.statusCode, body };
  }
  return toHttp(errors.internal());
}

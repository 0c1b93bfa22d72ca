/** How errors look over HTTP: a status and `{"error": {"code", "message", "field"?}}` naming what is wrong. */
import { CloudRoutesError, type ErrorCode } from '../core/errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  CR_NO_SUCH_MONITOR: 404,
  CR_NO_SUCH_REACTION: 404,
  CR_REACTION_IN_USE: 409,
  CR_STORE: 503,
  CR_SECRET_KEY: 500,
  CR_MODULE_INVALID: 500,
  CR_CROSS_ORIGIN: 403,
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An HTTP error with a stable code, for what the web layer itself refuses. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/** The status and body for any error thrown while handling a request. */
export function toHttp(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) {
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } } };
  }
  if (err instanceof CloudRoutesError) {
    // An error that names a field of the request is the request's fault, even "no such reaction" in a monitor's list.
    const status = err.field && err.usage ? 400 : STATUS[err.code] ?? (err.usage ? 400 : 500);
    const field = err.field ?? /^(?:data for .*?: )?(data(?:\.[\w-]+|\[\d+\])*) /.exec(err.message)?.[1];
    return { status, body: { error: { code: err.code, message: err.message, ...(field ? { field } : {}) } } };
  }
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: { instancePath?: string; params?: Record<string, unknown> }[] };
  if (e.validation) {
    const v = e.validation[0];
    const path = (v?.instancePath ?? '').split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
    const extra = v?.params?.missingProperty ?? v?.params?.additionalProperty;
    const field = `${path}${extra ? `.${String(extra)}` : ''}`.replace(/^\./, '') || undefined;
    const message = `${e.message ?? 'bad request'}${v?.params?.additionalProperty ? ` (${String(v.params.additionalProperty)})` : ''}`;
    return { status: 400, body: { error: { code: 'CR_BAD_REQUEST', message, ...(field ? { field } : {}) } } };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return { status: 400, body: { error: { code: 'CR_BAD_JSON', message: e.message ?? 'the request body is not valid JSON', field: 'body' } } };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: { code: e.code ?? 'CR_BAD_REQUEST', message: e.message ?? 'bad request' } } };
  }
  return { status: 500, body: { error: { code: 'CR_INTERNAL', message: 'internal error; see the web process log' } } };
}

/** Response bodies, written the way the server writes them. */
import { ErrorType, ResponseType } from './protocol.js';
import { ReqlError, runtimeError } from './errors.js';

/** Response body: {t, e?, r, b?, n?}, in the order the server writes them. */
export function responseJson(t: number, r: string, extra: { e?: number; b?: unknown[]; n?: number[] } = {}): string {
  let s = `{"t":${t}`;
  if (extra.e !== undefined) s += `,"e":${extra.e}`;
  s += `,"r":${r}`;
  if (extra.b) s += `,"b":${JSON.stringify(extra.b)}`;
  if (t === ResponseType.SUCCESS_PARTIAL || t === ResponseType.SUCCESS_SEQUENCE) s += `,"n":${JSON.stringify(extra.n ?? [])}`;
  return `${s}}`;
}

export function errorJson(e: unknown): string {
  const err = e instanceof ReqlError ? e : runtimeError(ErrorType.INTERNAL, `Unexpected exception: ${String(e)}`);
  const extra = { e: err.responseType === ResponseType.RUNTIME_ERROR ? err.errorType : undefined, b: err.backtrace ?? [] };
  return responseJson(err.responseType, JSON.stringify([err.message]), extra);
}

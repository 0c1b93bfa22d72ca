/** Turns rethinkdb-ts and socket errors into CR_STORE errors that say what failed, where, and what to do. */
import { isRethinkDBError, RethinkDBErrorType } from 'rethinkdb-ts';
import { CloudRoutesError, errors } from '../core/errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const CONNECTION_TYPES = new Set([RethinkDBErrorType.CONNECTION, RethinkDBErrorType.TIMEOUT, RethinkDBErrorType.POOL_FAIL, RethinkDBErrorType.MASTER_POOL_FAIL]);

/** The driver's own words, without the query text it appends (which may be long or hold record data). */
export function reasonOf(err: unknown): string {
  if (isRethinkDBError(err)) {
    const msg = ((err as { msg?: string }).msg ?? err.message).replace(/ in:$|:$/, '').replace(/\.$/, '');
    const cause = err.cause;
    return cause && /see cause/.test(msg) ? reasonOf(cause) : msg;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True when `err` means the connection to a server is gone or could not be made. */
export function isConnectionError(err: unknown): boolean {
  if (isRethinkDBError(err)) return CONNECTION_TYPES.has(err.type) || (err.cause !== undefined && isConnectionError(err.cause));
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** What to do about `err`, as one clause. */
export function hintFor(err: unknown, where: string): string {
  const reason = reasonOf(err);
  if (isConnectionError(err)) {
    return `check that RethinkDB is running at ${where}, that this machine can reach it (address, port, firewall), and the hosts in CLOUDROUTES_STORE`;
  }
  const type = isRethinkDBError(err) ? err.type : undefined;
  if (type === RethinkDBErrorType.AUTH) return 'check the user and password in CLOUDROUTES_STORE (rethinkdb://user:password@host:28015/<db>)';
  if (type === RethinkDBErrorType.PERMISSION_ERROR) {
    return 'grant this user read and write access to the database in RethinkDB, or use another user in CLOUDROUTES_STORE';
  }
  if (/(Database|Table) `[^`]*` does not exist|Index `[^`]*` was not found/.test(reason)) return 'run "cloudroutes store init" to create it';
  if (/before its construction was finished/.test(reason)) return 'an index is still being built; wait for "cloudroutes store init" to finish';
  if (/^Can't put \d+ replicas on servers/.test(reason)) {
    return 'the RethinkDB cluster has fewer servers than the replicas asked for: lower --replicas, or join more servers to the cluster first';
  }
  if (type === RethinkDBErrorType.OP_FAILED || type === RethinkDBErrorType.OP_INDETERMINATE) {
    return 'a RethinkDB server holding this table is unavailable; check the cluster in the RethinkDB web console or the server logs';
  }
  return 'check the RethinkDB server logs';
}

/** A CR_STORE error for `op` that failed against `where` (host:port or the server list). */
export function storeFailure(op: string, where: string, err: unknown): CloudRoutesError {
  if (err instanceof CloudRoutesError) return err;
  const e = errors.store(`${op} on RethinkDB ${where} failed (${reasonOf(err)}); ${hintFor(err, where)}`);
  (e as Error & { cause?: unknown }).cause = err;
  return e;
}

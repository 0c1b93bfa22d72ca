/** Errors a query can end with, carrying the response type (t) and error type (e) the real server sends. */
import { ErrorType, ResponseType } from './protocol.js';

export type Frame = number | string;

export class ReqlError extends Error {
  /** Path of argument positions / optarg names from the query root to the failing term (the response's `b`). */
  backtrace: Frame[] | undefined;

  constructor(
    readonly responseType: number,
    readonly errorType: number,
    message: string,
  ) {
    super(message);
  }
}

/** A RUNTIME_ERROR of the given ErrorType. */
export function runtimeError(errorType: number, message: string): ReqlError {
  return new ReqlError(ResponseType.RUNTIME_ERROR, errorType, message);
}

export const logicError = (message: string): ReqlError => runtimeError(ErrorType.QUERY_LOGIC, message);
export const nonExistence = (message: string): ReqlError => runtimeError(ErrorType.NON_EXISTENCE, message);
export const opFailed = (message: string): ReqlError => runtimeError(ErrorType.OP_FAILED, message);
export const resourceError = (message: string): ReqlError => runtimeError(ErrorType.RESOURCE_LIMIT, message);

/**
 * A COMPILE_ERROR. The server compiles the whole term tree before running it, so unknown terms,
 * wrong argument counts and unknown optargs fail here without touching any data.
 */
export function compileError(message: string): ReqlError {
  return new ReqlError(ResponseType.COMPILE_ERROR, ErrorType.QUERY_LOGIC, message);
}

/** A CLIENT_ERROR: the client broke the protocol (unknown token, bad query shape). */
export function clientError(message: string): ReqlError {
  return new ReqlError(ResponseType.CLIENT_ERROR, ErrorType.QUERY_LOGIC, message);
}

/** Thrown for terms the real server knows but this test server does not implement. */
export function notImplemented(what: string): ReqlError {
  return compileError(`${what} is not implemented by the RethinkDB test server.`);
}

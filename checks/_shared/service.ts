/** What the service checks (redis, postgres, mysql, mqtt, amqp) share: connection fields, a deadline and failure messages. */
import { errors, TimedOut } from '../../src/core/errors.js';
import type { CheckContext, CheckJob, CheckResult, FieldSchema } from '../../src/core/types.js';
import { timeLimit } from '../../plugin-support/fields.js';
import { describeNetError, hostPort, ms } from '../../plugin-support/net-errors.js';

export const hostField: FieldSchema = { type: 'string', description: 'Host name or IP address of the server.', minLength: 1 };

/** A port field with the service's standard port as default. */
export function portField(standard: number): FieldSchema {
  return { type: 'integer', description: `TCP port, 1-65535 (default ${standard}).`, minimum: 1, maximum: 65535, default: standard };
}

/** A service check's password: for data.host and data.port only, and an edit keeping it may not change data.tls. */
export const passwordField: FieldSchema = {
  type: 'string',
  description: 'Password to authenticate with; stored encrypted, for data.host and data.port only (changing them or data.tls needs it sent again).',
  secret: true,
  boundTo: { host: 'host', port: 'port', also: ['tls'] },
};

export const tlsField: FieldSchema = {
  type: 'boolean',
  description: 'Connect over TLS, verifying the certificate against the host name (default false).',
  default: false,
};

// Thrown by Deadline.race when the check's time limit or the job's signal ends the check first: CR_TIMED_OUT, made by errors.timedOut.
export { TimedOut } from '../../src/core/errors.js';

/** The check's deadline: data.timeoutMs capped by the job's, or ctx.signal, whichever comes first. */
export class Deadline {
  readonly t0 = performance.now();
  readonly limitMs: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.controller.abort();

  constructor(job: CheckJob, private readonly ctx: CheckContext) {
    this.limitMs = timeLimit(job);
    if (ctx.signal.aborted) this.controller.abort();
    else ctx.signal.addEventListener('abort', this.onAbort, { once: true });
    if (this.limitMs > 0) this.timer = setTimeout(this.onAbort, this.limitMs);
  }

  /** Aborted at the deadline; hand it to sockets a client library creates out of reach. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Milliseconds since the check started. */
  elapsed(): number {
    return ms(performance.now() - this.t0);
  }

  /** Milliseconds left before the deadline, at least 1. */
  remaining(): number {
    return Math.max(1, Math.round(this.limitMs - (performance.now() - this.t0)));
  }

  /** Resolves as `work` does, or rejects with TimedOut when the deadline comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      work.catch(() => {});
      return Promise.reject(errors.timedOut(Math.round(this.elapsed())));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(errors.timedOut(Math.round(this.elapsed())));
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  /** Stops the timer and forgets the job's signal; call once the check is over. */
  clear(): void {
    clearTimeout(this.timer);
    this.ctx.signal.removeEventListener('abort', this.onAbort);
  }
}

const NET_CODES = /^(E[A-Z]+$|ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/;

/** A failed result for `err` during `phase` ("connecting to db:5432"); network errors get the shared wording. */
export function failure(err: unknown, phase: string, host: string, port: number, deadline: Deadline): CheckResult {
  const latencyMs = deadline.elapsed();
  if (err instanceof TimedOut) return { status: 'failed', message: `timed out after ${err.elapsedMs} ms ${phase}`, latencyMs };
  const e = err as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  const code = String(e?.code ?? e?.errors?.[0]?.code ?? '');
  if (NET_CODES.test(code)) return { status: 'failed', message: describeNetError(err, host, port), latencyMs };
  const reason = e?.message || (e?.errors?.[0]?.message ?? String(err));
  return { status: 'failed', message: `${phase} failed: ${reason}`, latencyMs };
}

/** The data a service check cannot use: the check could not run. */
export function unusable(job: CheckJob, problem: string): CheckResult {
  return { status: 'unknown', message: `monitor "${job.name}": ${problem}` };
}

/** data.host and data.port (the standard port when absent), or the unknown result that says they are unusable. */
export function target(job: CheckJob, standard?: number): { host: string; port: number; where: string } | CheckResult {
  const host = job.data.host;
  const port = job.data.port ?? standard;
  if (typeof host !== 'string' || !host || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return unusable(job, 'data.host must be a host name and data.port an integer 1-65535');
  }
  return { host, port, where: hostPort(host, port) };
}

/** Compares a query's first value with data.expected as strings (null reads "NULL", binary data as UTF-8). */
export function asText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

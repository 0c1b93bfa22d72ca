/** Runs one check module under a deadline and turns anything it throws into an `unknown` result. */
import type { Logger } from 'pino';
import { decryptFields } from '../core/crypto.js';
import type { PluginLoader } from '../core/plugins.js';
import type { CheckContext, CheckModule, CheckResult, Signal } from '../core/types.js';
import { MESSAGE_LIMITS, STATUSES, type JobMessage } from '../core/messages.js';
import { isTimeoutMs, timeoutProblem } from '../core/limits.js';
import { errors } from '../core/errors.js';
import { commandPolicy, commandRefusal, type CommandPolicy } from '../core/command-policy.js';

/** Reads a monitor's last webhook or heartbeat signal. */
export type SignalReader = (monitorId: string) => Promise<Signal | null>;


/**
 * Runs the job's check; always resolves, by the deadline at the latest. Without `signals`, ctx.lastSignal rejects.
 * What the module returns is copied into a plain result that can always be sent: a valid status, a message string
 * of bounded length, a finite latency and finite metrics.
 */
export async function runCheck(
  job: JobMessage, loader: PluginLoader<CheckModule>, secretKey: Buffer | undefined, logger: Logger, signals?: SignalReader,
  commands: CommandPolicy = commandPolicy(false, 'worker'),
): Promise<CheckResult> {
  const started = performance.now();
  const timeoutMs = job.timeoutMs;
  if (!isTimeoutMs(timeoutMs)) return { status: 'unknown', message: `timeoutMs ${String(timeoutMs)}: ${timeoutProblem(timeoutMs)}` };
  let timer: NodeJS.Timeout | undefined;
  let abortTimer: NodeJS.Timeout | undefined;
  let signal: AbortSignal | undefined;
  try {
    // Not AbortSignal.timeout: its timer cannot be cleared, so every check would wake the worker once more when its
    // time limit passed, long after it ended.
    const aborter = new AbortController();
    signal = aborter.signal;
    abortTimer = setTimeout(() => aborter.abort(new DOMException(`check timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const deadline = new Promise<CheckResult>((resolve) => {
      // A module that ignores its signal is still cut off, a little after the signal fires.
      timer = setTimeout(() => resolve({ status: 'unknown', message: `check timed out after ${timeoutMs} ms` }), timeoutMs + 50);
    });
    const ctxSignal = signal;
    const run = (async () => {
      const mod = await loader.load(job.ctype);
      const refused = commandRefusal(mod.meta, commands);
      if (refused) return { status: 'unknown', message: refused.message } satisfies CheckResult;
      const data = decryptFields(secretKey, job.data, mod.meta.fields, { kind: 'monitor', id: job.monitorId });
      const log = logger.child({ monitorId: job.monitorId, ctype: job.ctype });
      const ctx: CheckContext = {
        signal: ctxSignal, logger: log,
        lastSignal: () => (signals ? signals(job.monitorId) : Promise.reject(errors.noSignals())),
      };
      const { interval, createdAt } = job;
      return mod.check({ monitorId: job.monitorId, name: job.name, ctype: job.ctype, data, timeoutMs, zone: job.zone, interval, createdAt }, ctx);
    })();
    return plainResult(await Promise.race([run, deadline]), job.ctype, Math.round(performance.now() - started));
  } catch (err) {
    const message = signal?.aborted ? `check timed out after ${timeoutMs} ms` : `check "${job.ctype}" could not run: ${errorText(err)}`;
    return { status: 'unknown', message: clip(message) };
  } finally {
    clearTimeout(abortTimer);
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return 'an error that cannot be shown';
  }
}

const clip = (s: string) => (s.length > MESSAGE_LIMITS.messageLength ? `${s.slice(0, MESSAGE_LIMITS.messageLength - 1)}…` : s);

/** A copy of what a module returned that holds only sendable values (reading it may throw: the caller catches). */
function plainResult(result: CheckResult | undefined, ctype: string, elapsedMs: number): CheckResult {
  const status = result?.status;
  if (typeof status !== 'string' || !STATUSES.has(status)) {
    return { status: 'unknown', message: `check "${ctype}" returned no valid status (expected healthy, failed or unknown)` };
  }
  const out: CheckResult = { status, message: clip(typeof result!.message === 'string' ? result!.message : '') };
  const latency = result!.latencyMs;
  out.latencyMs = typeof latency === 'number' && Number.isFinite(latency) && latency >= 0 && latency <= MESSAGE_LIMITS.clockSkewMs ? latency : elapsedMs;
  const metrics = result!.metrics;
  if (typeof metrics === 'object' && metrics !== null) {
    const kept = Object.entries(metrics).filter(([k, v]) => k.length <= MESSAGE_LIMITS.idLength && typeof v === 'number' && Number.isFinite(v)).slice(0, MESSAGE_LIMITS.metrics);
    if (kept.length) out.metrics = Object.fromEntries(kept);
  }
  return out;
}

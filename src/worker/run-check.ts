/** Runs one check module under a deadline and turns anything it throws into an `unknown` result. */
import type { Logger } from 'pino';
import { decryptFields } from '../core/crypto.js';
import type { PluginLoader } from '../core/plugins.js';
import type { CheckContext, CheckModule, CheckResult, Signal } from '../core/types.js';
import type { JobMessage } from '../core/messages.js';
import { errors } from '../core/errors.js';
import { commandPolicy, commandRefusal, type CommandPolicy } from '../core/command-policy.js';

/** Reads a monitor's last webhook or heartbeat signal. */
export type SignalReader = (monitorId: string) => Promise<Signal | null>;

const STATUSES = new Set(['healthy', 'failed', 'unknown']);

/** Runs the job's check; always resolves, by the deadline at the latest. Without `signals`, ctx.lastSignal rejects. */
export async function runCheck(
  job: JobMessage, loader: PluginLoader<CheckModule>, secretKey: Buffer | undefined, logger: Logger, signals?: SignalReader,
  commands: CommandPolicy = commandPolicy(false, 'worker'),
): Promise<CheckResult> {
  const started = performance.now();
  const signal = AbortSignal.timeout(job.timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckResult>((resolve) => {
    // A module that ignores its signal is still cut off, a little after the signal fires.
    timer = setTimeout(() => resolve({ status: 'unknown', message: `check timed out after ${job.timeoutMs} ms` }), job.timeoutMs + 50);
  });
  try {
    const run = (async () => {
      const mod = await loader.load(job.ctype);
      const refused = commandRefusal(mod.meta, commands);
      if (refused) return { status: 'unknown', message: refused.message } satisfies CheckResult;
      const data = decryptFields(secretKey, job.data);
      const log = logger.child({ monitorId: job.monitorId, ctype: job.ctype });
      const ctx: CheckContext = {
        signal, logger: log,
        lastSignal: () => (signals ? signals(job.monitorId) : Promise.reject(errors.noSignals())),
      };
      const { interval, createdAt } = job;
      return mod.check({ monitorId: job.monitorId, name: job.name, ctype: job.ctype, data, timeoutMs: job.timeoutMs, zone: job.zone, interval, createdAt }, ctx);
    })();
    const result = await Promise.race([run, deadline]);
    if (!result || !STATUSES.has(result.status)) {
      return { status: 'unknown', message: `check "${job.ctype}" returned no valid status (expected healthy, failed or unknown)` };
    }
    return { ...result, latencyMs: result.latencyMs ?? Math.round(performance.now() - started) };
  } catch (err) {
    const message = signal.aborted ? `check timed out after ${job.timeoutMs} ms` : `check "${job.ctype}" could not run: ${(err as Error).message}`;
    return { status: 'unknown', message };
  } finally {
    clearTimeout(timer);
  }
}

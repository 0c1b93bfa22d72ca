/** What the checks of monitors that are told, not polled (heartbeat, webhook, datadog-webhook) share: their token and their signal. */
import { randomBytes } from 'node:crypto';
import { isEncrypted } from '../../src/core/crypto.js';
import { formatDuration } from '../../src/core/duration.js';
import { errors } from '../../src/core/errors.js';
import type { CheckJob, CheckResult, FieldSchema, Signal } from '../../src/core/types.js';

export const tokenField: FieldSchema = {
  type: 'string',
  description:
    'Secret token "<monitor id>.<random>" the caller presents; generated when left out (the CLI prints it with the URL). ' +
    'The monitor id prefix lets the web process find the monitor without a scan. Stored encrypted.',
  minLength: 20,
  secret: true,
};

/** A fresh token for monitor `id`: its id, a dot, 32 random URL-safe characters (192 bits). */
export function newToken(id: string): string {
  return `${id}.${randomBytes(24).toString('base64url')}`;
}

/** prepareData for told monitors: generates data.token when absent; a given one must start with "<monitor id>.". */
export function prepareToken(ctype: string) {
  return (data: Record<string, unknown>, monitor: { id: string }): Record<string, unknown> => {
    const token = data.token;
    if (token === undefined) return { ...data, token: newToken(monitor.id) };
    if (isEncrypted(token) || (typeof token === 'string' && token.startsWith(`${monitor.id}.`))) return data;
    throw errors.badData(`check "${ctype}"`, [{ path: 'data.token', message: `data.token must be "${monitor.id}.<secret>" (this monitor's id, a dot, the secret); leave it out to have one generated` }]);
  };
}

/** How long ago `at` was, compactly ("5m12s"). */
export function ago(at: number, now = Date.now()): string {
  return formatDuration(Math.max(0, Math.round((now - at) / 1000)));
}

/** Why a told check cannot judge: it runs only inside a worker that can read signals. */
export function cannotReadSignals(job: CheckJob): CheckResult {
  return { status: 'unknown', message: `monitor "${job.name}": ${job.ctype} checks need the signal reader a worker gives them (ctx.lastSignal)` };
}

/** The scheduled result of a webhook monitor: its last call's status, or unknown before the first call. */
export function lastCallResult(signal: Signal | null, source: string): CheckResult {
  if (!signal) return { status: 'unknown', message: `no ${source} call yet` };
  const when = new Date(signal.at).toISOString();
  const metrics = { secondsSinceCall: Math.round((Date.now() - signal.at) / 1000) };
  return { status: signal.status, message: `${source} said ${signal.status} at ${when} (${ago(signal.at)} ago)${signal.message ? `: ${signal.message}` : ''}`, metrics };
}

/** Check: a command exits with status 0 (or one of okCodes). */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../_shared/fields.js';
import { argvField, commandOf, describeRun, hostFor, okCodesField, TAIL_BYTES } from '../_shared/host.js';

export const meta: PluginMeta = {
  title: 'Shell command',
  description:
    "Runs a command on the worker's machine: command as a line for /bin/sh -c, or argv as a program and its arguments " +
    'without a shell (set exactly one). Healthy when it exits with status 0 or one of okCodes; failed otherwise, with the ' +
    `exit status and the last ${TAIL_BYTES} bytes of its stderr (or stdout when stderr is empty) in the message. At the ` +
    'time limit the whole process group is killed and the check fails as timed out. The command runs as the worker\'s ' +
    'user with the worker\'s environment. Metrics: exitCode (absent when killed).',
  fields: {
    type: 'object',
    properties: {
      command: { type: 'string', description: 'Shell line run by /bin/sh -c, e.g. "systemctl is-active --quiet nginx".', minLength: 1 },
      argv: argvField,
      okCodes: okCodesField,
      timeoutMs: timeoutField,
    },
    additionalProperties: false,
  },
};

/** Runs the command; healthy on an ok exit status. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const command = commandOf(job.data);
  if (typeof command === 'string') return { status: 'unknown', message: `monitor "${job.name}": ${command}` };
  const okCodes = Array.isArray(job.data.okCodes) && job.data.okCodes.length ? (job.data.okCodes as number[]) : [0];
  const r = await hostFor(job).run(command, { signal: ctx.signal, timeoutMs: timeLimit(job) });
  const { ok, text } = describeRun(r, okCodes);
  const metrics = r.code === null ? undefined : { exitCode: r.code };
  return { status: ok ? 'healthy' : 'failed', message: text, latencyMs: r.elapsedMs, ...(metrics && { metrics }) };
}

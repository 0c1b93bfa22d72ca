/** Check: a command exits with status 0 (or one of okCodes). */
import { exactlyOneOf } from '../../src/core/schema.js';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../../plugin-support/fields.js';
import { argvField, commandOf, describeRun, hostFailure, hostFor, okCodesField, TAIL_BYTES } from '../../plugin-support/host.js';
import { sshField } from '../../plugin-support/ssh-host.js';

export const meta: PluginMeta = {
  title: 'Shell command',
  runsCommands: true,
  description:
    "Runs a command on the worker's machine, or over SSH when ssh is set: command as a line for /bin/sh -c, or argv as " +
    'a program and its arguments without a shell (set exactly one). Healthy when it exits with status 0 or one of ' +
    'okCodes; failed otherwise, with the ' +
    `exit status and the last ${TAIL_BYTES} bytes of its stderr (or stdout when stderr is empty) in the message. At the ` +
    'time limit the whole process group is killed (over SSH: the session\'s process group, by a kill sent on the same ' +
    'connection) and the check fails as timed out. The command runs as the worker\'s user with the worker\'s ' +
    "environment less CloudRoutes' own settings (CLOUDROUTES_*, REDIS_URL), or as ssh.user with that login's " +
    'environment (a POSIX login shell is expected). An unreachable SSH ' +
    'host makes the result unknown (a changed SSH host key fails it). Metrics: exitCode (absent when killed).',
  fields: {
    type: 'object',
    properties: {
      command: { type: 'string', description: 'Shell line run by /bin/sh -c, e.g. "systemctl is-active --quiet nginx".', minLength: 1 },
      argv: argvField,
      okCodes: okCodesField,
      timeoutMs: timeoutField,
      ssh: sshField,
    },
    oneOf: exactlyOneOf('command', 'argv'),
    additionalProperties: false,
  },
};

/** Runs the command; healthy on an ok exit status. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const command = commandOf(job.data);
  if (typeof command === 'string') return { status: 'unknown', message: `monitor "${job.name}": ${command}` };
  const okCodes = Array.isArray(job.data.okCodes) && job.data.okCodes.length ? (job.data.okCodes as number[]) : [0];
  const host = hostFor(job, ctx.signal);
  let r;
  try {
    r = await host.run(command, { signal: ctx.signal, timeoutMs: timeLimit(job) });
  } catch (err) {
    return hostFailure(err) ?? { status: 'unknown', message: `cannot run the command on ${host.label}: ${(err as Error).message}` };
  }
  const { ok, text: said } = describeRun(r, okCodes);
  const text = said + host.where;
  const metrics = r.code === null ? undefined : { exitCode: r.code };
  return { status: ok ? 'healthy' : 'failed', message: text, latencyMs: r.elapsedMs, ...(metrics && { metrics }) };
}

/** Check: a process with a given name, or whose command line matches a pattern, is running. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { hostFailure, hostFor, type ProcessInfo } from '../../plugin-support/host.js';
import { sshField } from '../../plugin-support/ssh-host.js';

export const meta: PluginMeta = {
  title: 'Process running',
  description:
    "Looks through /proc of the worker's machine, or over SSH when ssh is set (one grep of every /proc/PID/comm and " +
    "cmdline), for processes whose name is name (the kernel's comm, at most 15 " +
    'characters, or the base name of the program in its command line) and/or whose command line (arguments joined with ' +
    'spaces) matches the regular expression pattern; set at least one, and a process must match every one set. Healthy ' +
    'when at least minCount (default 1) match, failed with the count found otherwise. The worker itself (over SSH: the ' +
    "listing command; the sshd processes serving the check's own session do count) is never counted. An unreachable SSH " +
    'host makes the result unknown (a changed SSH host key fails it). Metrics: count.',
  fields: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'Exact process name, e.g. "nginx" (comm or program base name).', minLength: 1 },
      pattern: { type: 'string', description: 'Regular expression tested against the full command line, e.g. "gunicorn .*app:main".', minLength: 1 },
      minCount: { type: 'integer', description: 'Fewest matching processes that are healthy, default 1.', minimum: 1, default: 1 },
      ssh: sshField,
    },
    additionalProperties: false,
  },
};

/** Counts matching processes in /proc; failed when fewer than data.minCount. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const name = typeof job.data.name === 'string' && job.data.name ? job.data.name : undefined;
  const source = typeof job.data.pattern === 'string' && job.data.pattern ? job.data.pattern : undefined;
  if (!name && !source) return { status: 'unknown', message: `monitor "${job.name}": set data.name or data.pattern` };
  let pattern: RegExp | undefined;
  try {
    pattern = source ? new RegExp(source) : undefined;
  } catch (err) {
    return { status: 'unknown', message: `monitor "${job.name}": data.pattern is not a valid regular expression: ${(err as Error).message}` };
  }
  const minCount = typeof job.data.minCount === 'number' ? job.data.minCount : 1;
  const host = hostFor(job, ctx.signal);
  let processes: ProcessInfo[];
  try {
    processes = await host.processes();
  } catch (err) {
    return hostFailure(err) ?? { status: 'unknown', message: `cannot list the processes of ${host.label}: ${(err as Error).message}` };
  }
  const matches = processes.map(({ comm, args }) => {
    if (name && comm !== name && args[0]?.split('/').pop() !== name) return false;
    return !pattern || pattern.test(args.join(' '));
  });
  const count = matches.filter(Boolean).length;
  const what = [name && `named "${name}"`, source && `matching /${source}/`].filter(Boolean).join(' and ');
  const text = `${count} process${count === 1 ? '' : 'es'} ${what}${host.where}`;
  if (count < minCount) return { status: 'failed', message: `${text}; want at least ${minCount}`, metrics: { count } };
  return { status: 'healthy', message: text, metrics: { count } };
}

/** Running a reaction's command with the event as CR_* variables, on this machine or another one (execute-shell-command, ssh-command). */
import { timeoutField } from '../../plugin-support/fields.js';
import { argvField, commandOf, describeRun, type Command, type Host } from '../../plugin-support/host.js';
import { render, TEMPLATE_FIELDS } from '../../src/core/template.js';
import type { FieldSchema, ReactionContext, ReactionEvent, ReactionReturn } from '../../src/core/types.js';
import { wouldRun } from './dry-run.js';
import { withMessage } from './outcome.js';

/** The event's fields as the description lists them. */
export const EVENT_VARIABLES =
  'CR_MONITOR_ID, CR_MONITOR_NAME, CR_MONITOR_CTYPE, CR_STATUS, CR_PREVIOUS_STATUS, CR_FAILCOUNT, CR_ZONE, CR_CHECKED_AT, ' +
  'CR_MESSAGE, CR_REACTION_ID, CR_REACTION_NAME, and for a reaction run by an escalation CR_ESCALATION_REASON, ' +
  'CR_ESCALATION_REACTION_NAME, CR_ESCALATION_RUNS; CR_INCIDENT_STARTED_AT and CR_INCIDENT_URL (the monitor\'s dashboard page)';

/** command, argv and timeoutMs of a command reaction (okCodes comes from plugin-support/host). */
export const commandFields = (shell: string): Record<string, FieldSchema> => ({
  command: { type: 'string', description: `Shell line run by ${shell}; {{field}} placeholders become quoted variable references.`, minLength: 1, template: true },
  argv: { ...argvField, items: { type: 'string', minLength: 1, template: true } },
  timeoutMs: { ...timeoutField, description: 'Milliseconds before the command is killed; the reaction deadline still applies when it is shorter.' },
});

/** CR_<FIELD> for a template field name, e.g. monitor.name -> CR_MONITOR_NAME. */
export function envName(field: string): string {
  return 'CR_' + field.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The event as CR_* environment variables. */
export function eventEnv(event: ReactionEvent): Record<string, string> {
  return Object.fromEntries(TEMPLATE_FIELDS.map((f) => [envName(f), render(`{{${f}}}`, event)]));
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The shell line with each known {{field}} replaced by "${CR_FIELD}", so values reach the shell only as variables. */
export function shellLine(template: string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (TEMPLATE_FIELDS.includes(name) ? `"\${${envName(name)}}"` : whole));
}

/** The last non-blank line of a command's output. */
const lastLine = (text: string) => text.trim().split(/\r?\n/).at(-1) ?? '';

/**
 * Runs the reaction's command on `host` with the event as CR_* variables; 'ran' on an ok exit status, else 'failed'
 * with the reason logged (monitorId, reactionId, exit code, output tail) and as the message (the exit status and the
 * last line of stderr, else of stdout). `host` may be a reason it cannot be reached; `fields` is the module's
 * meta.fields, whose secret values never appear in the message. Under ctx.dryRun nothing runs and nothing connects:
 * 'ran' with the command line and where it would have run.
 */
export async function runCommandReaction(event: ReactionEvent, ctx: ReactionContext, host: Host | string, fields: FieldSchema): Promise<ReactionReturn> {
  const data = event.reaction.data;
  const label = `${event.reaction.rtype} reaction "${event.reaction.name}"`;
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id };
  const failed = (text: string) => withMessage('failed', text, event, fields);
  const parsed = commandOf(data);
  if (typeof parsed === 'string' || typeof host === 'string') {
    const problem = typeof parsed === 'string' ? parsed : (host as string);
    ctx.logger.warn(where, `${label}: ${problem}`);
    return failed(problem);
  }
  const command: Command = 'shell' in parsed ? { shell: shellLine(parsed.shell) } : { argv: parsed.argv.map((a) => render(a, event)) };
  const okCodes = Array.isArray(data.okCodes) && data.okCodes.length ? (data.okCodes as number[]) : [0];
  const env = eventEnv(event);
  if (ctx.dryRun) return wouldRun(command, host, env, event, fields);
  const timeoutMs = typeof data.timeoutMs === 'number' ? data.timeoutMs : 0;
  let r;
  try {
    r = await host.run(command, { signal: ctx.signal, timeoutMs, env });
  } catch (err) {
    ctx.logger.warn(where, `${label}: ${(err as Error).message}`);
    return failed((err as Error).message);
  }
  const { ok, text } = describeRun(r, okCodes);
  if (ok) {
    ctx.logger.info({ ...where, exitCode: r.code, elapsedMs: r.elapsedMs }, `${label}: ${text}${host.where}`);
    return 'ran';
  }
  ctx.logger.warn({ ...where, exitCode: r.code, elapsedMs: r.elapsedMs, stdout: r.stdout, stderr: r.stderr }, `${label}: ${text}${host.where}`);
  const last = describeRun({ ...r, stdout: lastLine(r.stdout), stderr: lastLine(r.stderr) }, okCodes).text;
  return failed(`${last}${host.where}`);
}

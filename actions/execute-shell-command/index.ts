/** Reaction: runs a command on the sink's machine, e.g. to restart a service, with the event in environment variables. */
import { render, TEMPLATE_FIELDS } from '../../src/core/template.js';
import type { PluginMeta, ReactionContext, ReactionEvent, ReactionOutcome } from '../../src/core/types.js';
import { timeoutField } from '../../checks/_shared/fields.js';
import { argvField, commandOf, describeRun, localHost, okCodesField, type Command } from '../../checks/_shared/host.js';

export const meta: PluginMeta = {
  title: 'Shell command',
  description:
    "Runs a command on the sink's machine to fix what failed, for example \"systemctl restart nginx\": command as a line " +
    'for /bin/sh -c, or argv as a program and its arguments without a shell (set exactly one). The event is passed as ' +
    'environment variables (CR_MONITOR_ID, CR_MONITOR_NAME, CR_MONITOR_CTYPE, CR_STATUS, CR_PREVIOUS_STATUS, CR_FAILCOUNT, ' +
    'CR_ZONE, CR_CHECKED_AT, CR_MESSAGE, CR_REACTION_ID, CR_REACTION_NAME). Both take templates: in command each ' +
    '{{field}} becomes a double-quoted reference to its variable ({{monitor.name}} runs as "${CR_MONITOR_NAME}"), so a ' +
    'value is never parsed by the shell (do not put a placeholder inside single quotes); in argv each element is filled ' +
    'in as plain text. The run is done when it exits with status 0 or one of okCodes; otherwise it is failed and the exit ' +
    'status and the end of its output are logged. At the deadline the whole process group is killed.',
  fields: {
    type: 'object',
    properties: {
      command: { type: 'string', description: 'Shell line run by /bin/sh -c; {{field}} placeholders become quoted variable references.', minLength: 1, template: true },
      argv: { ...argvField, items: { type: 'string', minLength: 1, template: true } },
      okCodes: okCodesField,
      timeoutMs: { ...timeoutField, description: 'Milliseconds before the command is killed; the reaction deadline still applies when it is shorter.' },
    },
    additionalProperties: false,
  },
};

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

/** Runs the command; 'ran' on an ok exit status, else 'failed' with the reason logged. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionOutcome> {
  const data = event.reaction.data;
  const label = `execute-shell-command reaction "${event.reaction.name}"`;
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id };
  const parsed = commandOf(data);
  if (typeof parsed === 'string') {
    ctx.logger.warn(where, `${label}: ${parsed}`);
    return 'failed';
  }
  const command: Command = 'shell' in parsed ? { shell: shellLine(parsed.shell) } : { argv: parsed.argv.map((a) => render(a, event)) };
  const okCodes = Array.isArray(data.okCodes) && data.okCodes.length ? (data.okCodes as number[]) : [0];
  const timeoutMs = typeof data.timeoutMs === 'number' ? data.timeoutMs : 0;
  const r = await localHost.run(command, { signal: ctx.signal, timeoutMs, env: eventEnv(event) });
  const { ok, text } = describeRun(r, okCodes);
  if (ok) {
    ctx.logger.info({ ...where, exitCode: r.code, elapsedMs: r.elapsedMs }, `${label}: ${text}`);
    return 'ran';
  }
  ctx.logger.warn({ ...where, exitCode: r.code, elapsedMs: r.elapsedMs, stdout: r.stdout, stderr: r.stderr }, `${label}: ${text}`);
  return 'failed';
}

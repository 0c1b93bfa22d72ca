/** Reaction: runs a command on the sink's machine, e.g. to restart a service, with the event in environment variables. */
import { exactlyOneOf } from '../../src/core/schema.js';
import type { ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { localHost, okCodesField } from '../../plugin-support/host.js';
import { commandFields, EVENT_VARIABLES, runCommandReaction } from '../_shared/command.js';

export const meta: ReactionModule['meta'] = {
  title: 'Shell command',
  kind: 'fix',
  dryRun: true,
  runsCommands: true,
  description:
    "Runs a command on the sink's machine to fix what failed, for example \"systemctl restart nginx\": command as a line " +
    'for /bin/sh -c, or argv as a program and its arguments without a shell (set exactly one). The event is passed as ' +
    `environment variables (${EVENT_VARIABLES}). Both take templates: in command each ` +
    '{{field}} becomes a double-quoted reference to its variable ({{monitor.name}} runs as "${CR_MONITOR_NAME}"), so a ' +
    'value is never parsed by the shell (do not put a placeholder inside single quotes); in argv each element is filled ' +
    'in as plain text. The run is done when it exits with status 0 or one of okCodes; otherwise it is failed, the exit ' +
    'status and the end of its output are logged, and the exit status and the last line of stderr are its message. At the deadline the whole process group is killed. The command gets ' +
      "the sink's environment less CloudRoutes' own settings (CLOUDROUTES_*, REDIS_URL).",
  fields: {
    type: 'object',
    properties: { ...commandFields('/bin/sh -c'), okCodes: okCodesField },
    oneOf: exactlyOneOf('command', 'argv'),
    additionalProperties: false,
  },
};

/** Runs the command; 'ran' on an ok exit status, else 'failed' with the reason logged and as the message. */
export function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  return runCommandReaction(event, ctx, localHost, meta.fields);
}

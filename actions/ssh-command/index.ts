/** Reaction: runs a command on another machine over SSH, e.g. to restart a service, with the event in environment variables. */
import { okCodesField } from '../../plugin-support/host.js';
import { sshField, sshHost } from '../../plugin-support/ssh-host.js';
import { exactlyOneOf } from '../../src/core/schema.js';
import type { ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { commandFields, EVENT_VARIABLES, runCommandReaction } from '../_shared/command.js';

/** How long a new SSH connection may take when timeoutMs is not set (the reaction deadline still applies). */
const HANDSHAKE_MS = 30_000;

export const meta: ReactionModule['meta'] = {
  title: 'SSH command',
  kind: 'fix',
  dryRun: true,
  runsCommands: true,
  description:
    'Logs in to ssh.host over SSH (key or password, the server key pinned by ssh.hostKey when set, else recorded on first use and a changed one refused; connections reused) ' +
    'and runs a command there to fix what failed, for example "sudo systemctl restart nginx": command as a line for ' +
    "/bin/sh -c, or argv as a program and its arguments without a shell, each shell-quoted for the user's login shell " +
    `(set exactly one). The event is passed as environment variables (${EVENT_VARIABLES}), set by an export in front of ` +
    'the command because SSH servers refuse to set them. In command each {{field}} becomes a double-quoted reference to ' +
    'its variable, so a value is never parsed by the shell; in argv each element is filled in as plain text. The run is ' +
    'done when it exits with status 0 or one of okCodes; otherwise, or when the host cannot be reached or logged in to, ' +
    'it is failed and the reason, exit status and end of its output are logged and the reason or exit status and last line ' +
    'of stderr are its message (never the key or password). At timeoutMs ' +
    "or the reaction deadline the remote session's process group is killed.",
  fields: {
    type: 'object',
    properties: { ssh: sshField, ...commandFields('/bin/sh -c on ssh.host'), okCodes: okCodesField },
    required: ['ssh'],
    oneOf: exactlyOneOf('command', 'argv'),
    additionalProperties: false,
  },
};

/** Runs the command over SSH; 'ran' on an ok exit status, else 'failed' with the reason logged and as the message. */
export function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  const { ssh, timeoutMs } = event.reaction.data;
  const host = sshHost(ssh, ctx.signal, typeof timeoutMs === 'number' && timeoutMs > 0 ? timeoutMs : HANDSHAKE_MS);
  return runCommandReaction(event, ctx, host, meta.fields);
}

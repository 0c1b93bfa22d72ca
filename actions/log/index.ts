/** Reaction: writes the event as one structured log line. */
import type { ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { wouldHave } from '../_shared/dry-run.js';

export const meta: ReactionModule['meta'] = {
  title: 'Log',
  kind: 'notify',
  dryRun: true,
  description:
    'Writes the event to the process log as one structured line (monitorId, monitorName, reactionId, status, ' +
    'previousStatus, failcount, zone, checkedAt, message) at the chosen level. Useful to test reaction rules and as an ' +
    'audit trail; it never fails.',
  fields: {
    type: 'object',
    properties: {
      level: { type: 'string', description: 'Log level of the line, default warn for failed and info otherwise.', enum: ['info', 'warn', 'error'] },
    },
    additionalProperties: false,
  },
};

type Level = 'info' | 'warn' | 'error';

/** Logs the event through ctx.logger and returns 'ran'; under ctx.dryRun, only says which line it would log. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  const chosen = event.reaction.data.level;
  const level: Level = chosen === 'info' || chosen === 'warn' || chosen === 'error' ? chosen : event.status === 'failed' ? 'warn' : 'info';
  const line = `monitor "${event.monitor.name}" is ${event.status}: ${event.message}`;
  if (ctx.dryRun) return wouldHave({ what: `log at ${level}: ${line} (monitorId ${event.monitor.id}, reactionId ${event.reaction.id})` }, event, meta.fields);
  ctx.logger[level](
    {
      monitorId: event.monitor.id,
      monitorName: event.monitor.name,
      reactionId: event.reaction.id,
      status: event.status,
      previousStatus: event.previousStatus,
      failcount: event.failcount,
      zone: event.zone,
      checkedAt: new Date(event.checkedAt).toISOString(),
      message: event.message,
    },
    line,
  );
  return 'ran';
}

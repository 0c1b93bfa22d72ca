/** What a reaction returns with its message: the secret values of its data masked, on one line, short enough for the audit. */
import { maskSecrets, secretValues } from '../../src/core/schema.js';
import type { FieldSchema, ReactionEvent, ReactionOutcome } from '../../src/core/types.js';

/** Longest message a built-in reaction returns (a long stderr or answer body is cut). */
export const MESSAGE_MAX = 300;

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max = MESSAGE_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `text` with every secret value of the reaction's data (the fields `fields` marks secret) replaced by ***. */
export function masked(text: string, event: ReactionEvent, fields: FieldSchema): string {
  return maskSecrets(text, secretValues(fields, event.reaction.data));
}

/** Characters kept from the start of a message that is too long; the rest of MESSAGE_MAX is kept from its end. */
const HEAD = 100;

/**
 * `outcome` with `text` as its message on one line, secrets masked before it is cut (a quote cut first must be masked
 * first too). A long message keeps its start (what was called) and its end (the last words of an output, the error).
 */
export function withMessage<O extends ReactionOutcome>(outcome: O, text: string, event: ReactionEvent, fields: FieldSchema): { outcome: O; message: string } {
  const line = oneLine(masked(text, event, fields), Infinity);
  return { outcome, message: line.length > MESSAGE_MAX ? `${line.slice(0, HEAD)}…${line.slice(line.length - (MESSAGE_MAX - HEAD - 1))}` : line };
}

/** Runs one reaction module under a timeout; a throw or a hang is a `failed` outcome, never an escape. */
import type { Logger } from 'pino';
import { decryptFields } from '../core/crypto.js';
import { maskSecrets, secretValues } from '../core/schema.js';
import { MAX_REACTION_MESSAGE } from '../core/messages.js';
import { OUTCOME_VALUES, type ReactionEvent, type ReactionModule, type ReactionOutcome } from '../core/types.js';

const OUTCOMES: ReadonlySet<string> = new Set(OUTCOME_VALUES);
/** Longest message kept from a module (the audit shows it; a module may say much more in its log). */
const MAX_MESSAGE = MAX_REACTION_MESSAGE;

export interface ReactionRun {
  outcome: ReactionOutcome;
  message: string;
  durationMs: number;
}

/** Calls `mod.react` with an AbortSignal that fires after `timeoutMs`; with `dryRun`, asks it to act on nothing and say what it would do. */
export async function runReaction(
  mod: ReactionModule, event: ReactionEvent, timeoutMs: number, secretKey: Buffer | undefined, logger: Logger, dryRun = false,
): Promise<ReactionRun> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const elapsed = () => Math.round(performance.now() - started);
  const hang = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs + 50)));
  let secrets: string[] = [];
  try {
    const data = decryptFields(secretKey, event.reaction.data, mod.meta.fields, { kind: 'reaction', id: event.reaction.id });
    secrets = secretValues(mod.meta.fields, data);
    const run = mod.react({ ...event, reaction: { ...event.reaction, data } }, { signal, logger, ...(dryRun ? { dryRun } : {}) });
    const returned = await Promise.race([run, hang]);
    if (returned === 'timeout') return { outcome: 'failed', message: `reaction timed out after ${timeoutMs} ms`, durationMs: elapsed() };
    const { outcome, message } = typeof returned === 'object' && returned !== null ? returned : { outcome: returned, message: undefined };
    if (!OUTCOMES.has(outcome) || (message !== undefined && typeof message !== 'string')) {
      const shown = maskSecrets(JSON.stringify(returned) ?? String(returned), secrets).slice(0, 200);
      return { outcome: 'failed', message: `reaction returned ${shown}, not ran, failed or skipped (or { outcome, message })`, durationMs: elapsed() };
    }
    // A failure is never recorded without a reason: the module gave none, so say that much. A secret value of the
    // reaction's data that the module's message repeats is masked, whoever wrote the module.
    const said = maskSecrets(message ?? '', secrets).slice(0, MAX_MESSAGE) || (outcome === 'failed' ? `${event.reaction.rtype} reported failure without a reason (see the sink's log)` : '');
    return { outcome, message: said, durationMs: elapsed() };
  } catch (err) {
    const message = signal.aborted ? `reaction timed out after ${timeoutMs} ms` : `reaction threw: ${maskSecrets((err as Error).message, secrets).slice(0, MAX_MESSAGE)}`;
    return { outcome: 'failed', message, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

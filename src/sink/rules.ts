/** The common reaction rules the sink applies before a reaction's frequency and once-per-episode checks. */
import type { ReactionModule, ReactionRuleInput } from '../core/types.js';

/**
 * True when the result's status matches the reaction's call-on and, for a failed result,
 * the monitor's consecutive fail count has reached the trigger. `unknown` never matches, and nor does a result for a
 * reaction called on escalations only (it runs when another reaction of the monitor escalates).
 */
export function matchesRule({ reaction, status, failcount }: ReactionRuleInput): boolean {
  if (status === 'failed') return (reaction.callOn === 'failed' || reaction.callOn === 'both') && failcount >= reaction.trigger;
  if (status === 'healthy') return reaction.callOn === 'healthy' || reaction.callOn === 'both';
  return false;
}

/** The module's own `shouldRun` when it exports one, else the common rule; `unknown` never runs a reaction. */
export function shouldRun(mod: ReactionModule, input: ReactionRuleInput): boolean {
  if (input.status === 'unknown') return false;
  return mod.shouldRun ? mod.shouldRun(input) === true : matchesRule(input);
}

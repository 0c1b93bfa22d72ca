/** Budgets of fixes: how many runs a reaction, or every reaction naming one target, may take within a window. */
import { formatDuration } from './duration.js';
import type { Reaction } from './types.js';

export interface Budget {
  maxRuns: number;
  /** Window, seconds. */
  per: number;
}

/** "3 per 1h", or '' without a budget. */
export function budgetText(b: Partial<Budget>): string {
  return b.maxRuns === undefined || b.per === undefined ? '' : `${b.maxRuns} per ${formatDuration(b.per)}`;
}

/** The reaction's own budget, or undefined when it has none. */
export function reactionBudget(r: Pick<Reaction, 'maxRuns' | 'per'>): Budget | undefined {
  return r.maxRuns === undefined || r.per === undefined ? undefined : { maxRuns: r.maxRuns, per: r.per };
}

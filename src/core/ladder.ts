/** Ladders of reactions: each rung names the one before it (escalatesFrom) and runs when that one escalates. */
import type { Reaction } from './types.js';

type Rung = Pick<Reaction, 'id' | 'escalatesFrom'>;

/** The rungs up to `last`, first rung first, as far as `reactions` go. */
export function rungsTo<R extends Rung>(reactions: R[], last: R): R[] {
  const chain = [last];
  for (let r = last; r.escalatesFrom && chain.length < 100;) {
    const before = reactions.find((x) => x.id === r.escalatesFrom);
    if (!before || chain.includes(before)) break;
    chain.unshift(before);
    r = before;
  }
  return chain;
}

/** The whole ladder `r` is on, first rung first: the rungs before it, then after it each next rung (the first one, where several follow one). */
export function ladderOf<R extends Rung>(reactions: R[], r: R): R[] {
  const chain = rungsTo(reactions, r);
  for (let next = reactions.find((x) => x.escalatesFrom === r.id); next && !chain.includes(next) && chain.length < 100; next = reactions.find((x) => x.escalatesFrom === next!.id)) {
    chain.push(next);
  }
  return chain;
}

/**
 * Named faults that tests switch on in a real process with CLOUDROUTES_FAILPOINTS=name[,name...], to exercise
 * the recovery paths (a receive loop that dies) that no outside input can cause. Unset, each is one Set lookup.
 */
import { errors } from './errors.js';

const active = new Set((process.env.CLOUDROUTES_FAILPOINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** Throws when failpoint `name` is switched on. */
export function failpoint(name: string): void {
  if (active.size && active.has(name)) throw errors.failpoint(name);
}

/**
 * The audit: every decision the sinks took for a reaction (ran, failed, skipped, held, with the reason), newest
 * first, a page at a time. Read from the store of record, where the bridge carries the zones' events streams.
 */
import { errors } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { DECISION_VALUES, type Decision, type EventRecord } from '../core/types.js';
import type { Store } from '../store/store.js';

export interface AuditQuery {
  monitorId?: string;
  reactionId?: string;
  decisions?: Decision[];
  /** Only decisions at or after this time (epoch ms). */
  since?: number;
  /** Only decisions before this time (epoch ms): the `next` of the page before. */
  before?: number;
  limit: number;
}

export interface AuditPage {
  entries: EventRecord[];
  /** `before` for the next page, or null when this page is the last. */
  next: number | null;
}

/**
 * One page. A page never ends inside a millisecond: the decisions taken in the millisecond of its last entry all
 * come in it (it may then hold a few more than `limit`), so paging by time loses none.
 */
export async function auditPage(store: Store, q: AuditQuery): Promise<AuditPage> {
  const filter = { monitorId: q.monitorId, reactionId: q.reactionId, kind: 'reaction' as const, outcomes: q.decisions, since: q.since };
  const entries = await store.events({ ...filter, until: q.before === undefined ? undefined : q.before - 1, limit: q.limit });
  if (entries.length < q.limit) return { entries, next: null };
  const last = entries[entries.length - 1]!.at;
  const sameMs = await store.events({ ...filter, since: last, until: last, limit: 10_000 });
  return { entries: [...entries.filter((e) => e.at !== last), ...sameMs], next: last };
}

/** Decisions named by the user (a list or comma-separated), each checked; undefined for none. */
export function parseDecisions(values: string[] | undefined): Decision[] | undefined {
  const list = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const d of list) {
    if (!(DECISION_VALUES as readonly string[]).includes(d)) throw errors.badSetting('decision', d, `one of ${DECISION_VALUES.join(', ')}`);
  }
  return list.length ? (list as Decision[]) : undefined;
}

/** `--since 1h` (a duration back from `now`), an ISO time or epoch ms, as epoch ms. */
export function parseSince(value: string, now = Date.now()): number {
  if (/^\d{12,}$/.test(value)) return Number(value);
  const iso = Date.parse(value);
  if (/^\d{4}-\d\d-\d\d/.test(value) && Number.isFinite(iso)) return iso;
  try {
    return now - parseDuration(value) * 1000;
  } catch (err) {
    throw errors.badSetting('since', value.slice(0, 40), `a duration back from now (30m, 1h, 7d), an ISO time or epoch ms; ${(err as Error).message}`);
  }
}

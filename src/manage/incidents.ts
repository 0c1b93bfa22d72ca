/**
 * The figures of the closed loop, read from the store of record's events: per reaction its decisions by outcome, its
 * fix success rate and time from fix to healthy; per monitor its incidents (an episode that went failed, in one zone:
 * from the status change to failed to the one back to healthy) with their timelines, time to detect and to recover,
 * and the mean time to recover. Every store query is bounded by one monitor, a time window and EVENTS_PER_QUERY.
 */
import { errors } from '../core/errors.js';
import type { Decision, EventRecord, Monitor } from '../core/types.js';
import type { Store } from '../store/store.js';

const DAY_MS = 86_400_000;
/** The window the figures cover unless told otherwise: 30 days back from now. */
export const STATS_WINDOW_MS = 30 * DAY_MS;
/** Most events one query reads (one monitor's status changes, or its decisions, in the window); past it the oldest are left out. */
export const EVENTS_PER_QUERY = 10_000;
/** Monitors queried at once when a figure covers several. */
const MONITORS_AT_ONCE = 8;
/** Without episodes (events stored before they carried one), a `fixed` this long after the recovery is still the incident's. */
const FIXED_GRACE_MS = 60_000;

export interface Window {
  /** Epoch ms, inclusive. */
  since: number;
  until: number;
}

/** The default window (the last 30 days) with `since` replaced when given. */
export function statsWindow(since?: number, now = Date.now()): Window {
  return { since: since ?? now - STATS_WINDOW_MS, until: now };
}

/** The value at quantile q of sorted values (nearest rank); null when there are none. */
function quantile(sorted: number[], q: number): number | null {
  return sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! : null;
}

const mean = (values: number[]): number | null => (values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null);

/** Runs `fn` for each item, a few at a time, in order of the items. */
async function eachFew<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += MONITORS_AT_ONCE) out.push(...(await Promise.all(items.slice(i, i + MONITORS_AT_ONCE).map(fn))));
  return out;
}

export interface ReactionStats extends Window {
  reactionId: string;
  /** Decisions by outcome (ran, skipped, held, fixed, ...) over every monitor naming the reaction. */
  decisions: Partial<Record<Decision, number>>;
  fixed: number;
  notFixed: number;
  /** fixed / (fixed + not-fixed); null when no run was verified. */
  successRate: number | null;
  /** From the fix's run to the healthy result, over its `fixed` decisions (ms, nearest rank). */
  timeToHealthyMs: { median: number | null; p90: number | null };
  /** Monitors whose decisions were read: those naming the reaction now. */
  monitors: number;
  /** True when a monitor had more than EVENTS_PER_QUERY decisions of it in the window: its oldest are not counted. */
  truncated: boolean;
}

/** A reaction's figures over `w`, read one monitor naming it at a time. */
export async function reactionStats(store: Store, reactionId: string, w: Window): Promise<ReactionStats> {
  const monitors = (await store.listMonitors()).filter((m) => m.reactions.includes(reactionId));
  const pages = await eachFew(monitors, (m) =>
    store.events({ monitorId: m.id, reactionId, kind: 'reaction', since: w.since, until: w.until, limit: EVENTS_PER_QUERY }));
  const decisions: Partial<Record<Decision, number>> = {};
  const healthyMs: number[] = [];
  for (const e of pages.flat()) {
    if (!e.outcome) continue;
    decisions[e.outcome] = (decisions[e.outcome] ?? 0) + 1;
    if (e.outcome === 'fixed' && e.tookMs !== undefined) healthyMs.push(e.tookMs);
  }
  healthyMs.sort((a, b) => a - b);
  const fixed = decisions.fixed ?? 0;
  const notFixed = decisions['not-fixed'] ?? 0;
  return {
    reactionId, ...w, decisions, fixed, notFixed, successRate: fixed + notFixed ? fixed / (fixed + notFixed) : null,
    timeToHealthyMs: { median: quantile(healthyMs, 0.5), p90: quantile(healthyMs, 0.9) },
    monitors: monitors.length, truncated: pages.some((p) => p.length === EVENTS_PER_QUERY),
  };
}

/** One line of an incident's timeline. */
export interface IncidentStep {
  at: number;
  /** failed: the first failed result; status: a change inside the incident (to unknown, back to failed); decision: a reaction decision; recovered: healthy again. */
  kind: 'failed' | 'status' | 'decision' | 'recovered';
  status?: string;
  reactionId?: string;
  outcome?: Decision;
  reason?: string;
  tookMs?: number;
  message: string;
}

export interface Incident {
  /** `<monitorId>:<zone>:<episode>` (events stored before status changes carried their episode: the start, epoch ms). */
  id: string;
  monitorId: string;
  zone: string;
  episode: number | null;
  /** The first failed result (its status change). */
  startedAt: number;
  /** The first healthy result after it; null while the incident goes on. */
  recoveredAt: number | null;
  /** From the first failed result to the start of the first reaction run (ran or dry-run); null when none ran. */
  detectMs: number | null;
  /** From the first failed result to the first healthy one; null while it goes on. */
  recoverMs: number | null;
  /** Reaction decisions taken in the incident. */
  decisions: number;
  timeline: IncidentStep[];
}

export interface IncidentPage extends Window {
  /** Newest first. */
  incidents: Incident[];
  /** True when a query reached EVENTS_PER_QUERY: the oldest incidents of the window may be missing or incomplete. */
  truncated: boolean;
}

const step = (kind: IncidentStep['kind'], e: EventRecord): IncidentStep => ({
  at: e.at, kind, ...(kind === 'decision' ? {} : { status: e.status }),
  ...(e.reactionId ? { reactionId: e.reactionId } : {}), ...(e.outcome ? { outcome: e.outcome } : {}), ...(e.reason ? { reason: e.reason } : {}),
  ...(e.tookMs === undefined ? {} : { tookMs: e.tookMs }), message: e.message,
});

/** Whether decision `d` (of the incident's zone) was taken in `inc`; a `fixed` comes with the healthy result, in the next episode. */
function belongs(d: EventRecord, inc: Incident): boolean {
  if (d.episode !== undefined && inc.episode !== null) return d.episode === inc.episode || (d.outcome === 'fixed' && d.episode === inc.episode + 1);
  if (d.at < inc.startedAt) return false;
  return inc.recoveredAt === null || d.at <= inc.recoveredAt || (d.outcome === 'fixed' && d.at <= inc.recoveredAt + FIXED_GRACE_MS);
}

/** The incidents of one monitor that started in `w` (every zone, or one), newest first, with their timelines. */
export async function monitorIncidents(store: Store, monitorId: string, w: Window, zone?: string): Promise<IncidentPage> {
  const changes = (await store.events({ monitorId, kind: 'status', since: w.since, until: w.until, limit: EVENTS_PER_QUERY })).reverse();
  let truncated = changes.length === EVENTS_PER_QUERY;
  const incidents: Incident[] = [];
  const open = new Map<string, Incident>();
  for (const e of changes) {
    if (zone !== undefined && e.zone !== zone) continue;
    const inc = open.get(e.zone);
    if (!inc) {
      if (e.status !== 'failed') continue;
      const episode = e.episode ?? null;
      const started: Incident = {
        id: `${monitorId}:${e.zone}:${episode ?? e.at}`, monitorId, zone: e.zone, episode, startedAt: e.at, recoveredAt: null,
        detectMs: null, recoverMs: null, decisions: 0, timeline: [step('failed', e)],
      };
      incidents.push(started);
      open.set(e.zone, started);
    } else if (e.status === 'healthy') {
      inc.recoveredAt = e.at;
      inc.recoverMs = e.at - inc.startedAt;
      inc.timeline.push(step('recovered', e));
      open.delete(e.zone);
    } else {
      inc.timeline.push(step('status', e));
    }
  }
  if (incidents.length) {
    const since = Math.min(...incidents.map((i) => i.startedAt));
    const decided = (await store.events({ monitorId, kind: 'reaction', since, until: w.until, limit: EVENTS_PER_QUERY })).reverse();
    truncated ||= decided.length === EVENTS_PER_QUERY;
    for (const d of decided) {
      const inc = incidents.find((i) => i.zone === d.zone && belongs(d, i));
      if (!inc) continue;
      inc.decisions++;
      inc.timeline.push(step('decision', d));
      if (inc.detectMs === null && (d.outcome === 'ran' || d.outcome === 'dry-run')) inc.detectMs = Math.max(0, d.at - (d.tookMs ?? 0) - inc.startedAt);
    }
    for (const inc of incidents) inc.timeline.sort((a, b) => a.at - b.at);
  }
  return { ...w, incidents: incidents.reverse(), truncated };
}

/** The incidents of several monitors (every monitor when none is named), newest first, at most `limit`. */
export async function incidentList(store: Store, q: Window & { monitorId?: string; limit: number }): Promise<IncidentPage> {
  let ids: string[];
  if (q.monitorId !== undefined) {
    if (!(await store.getMonitor(q.monitorId))) throw errors.noSuchMonitor(q.monitorId);
    ids = [q.monitorId];
  } else {
    ids = (await store.listMonitors()).map((m: Monitor) => m.id);
  }
  const pages = await eachFew(ids, (id) => monitorIncidents(store, id, q));
  const incidents = pages.flatMap((p) => p.incidents).sort((a, b) => b.startedAt - a.startedAt);
  return { since: q.since, until: q.until, incidents: incidents.slice(0, q.limit), truncated: pages.some((p) => p.truncated) };
}

export interface MonitorStats extends Window {
  monitorId: string;
  /** Incidents that started in the window, newest first, without their timelines ("incident show" has them). */
  incidents: Omit<Incident, 'timeline'>[];
  /** Incidents still going on. */
  ongoing: number;
  /** Mean time to recover and to detect of the incidents that started in the last 7 and 30 days (ms; null: none). */
  mttrMs: { '7d': number | null; '30d': number | null };
  mttdMs: { '7d': number | null; '30d': number | null };
  truncated: boolean;
}

/** A monitor's incidents of the last 30 days and its mean times to detect and recover over 7 and 30 days. */
export async function monitorStats(store: Store, monitorId: string, now = Date.now()): Promise<MonitorStats> {
  const page = await monitorIncidents(store, monitorId, statsWindow(undefined, now));
  const incidents = page.incidents.map(({ timeline: _, ...rest }) => rest);
  const over = (days: number, pick: (i: Omit<Incident, 'timeline'>) => number | null) =>
    mean(incidents.filter((i) => i.startedAt >= now - days * DAY_MS).map(pick).filter((v): v is number => v !== null));
  return {
    monitorId, since: page.since, until: page.until, incidents, ongoing: incidents.filter((i) => i.recoveredAt === null).length,
    mttrMs: { '7d': over(7, (i) => i.recoverMs), '30d': over(30, (i) => i.recoverMs) },
    mttdMs: { '7d': over(7, (i) => i.detectMs), '30d': over(30, (i) => i.detectMs) },
    truncated: page.truncated,
  };
}

/**
 * The incident `ref` names: its id (`m-abc:default:3`), or with `monitorId` an episode number, a start time (epoch ms
 * or ISO) or any time inside it; searched among the incidents that started in `w`, in `zone` when given.
 */
export async function findIncident(store: Store, ref: string, w: Window, monitorId?: string, zone?: string): Promise<Incident> {
  const parts = ref.split(':');
  let which = ref;
  if (monitorId === undefined && parts.length === 3) [monitorId, zone, which] = parts as [string, string, string];
  if (!monitorId) throw errors.badSetting('incident', ref, 'give <monitorId>:<zone>:<episode> (as "incident list" prints it) or <monitorId> <episode or start time>');
  if (!(await store.getMonitor(monitorId))) throw errors.noSuchMonitor(monitorId);
  const { incidents } = await monitorIncidents(store, monitorId, w, zone);
  const n = /^\d+$/.test(which) ? Number(which) : Date.parse(which);
  if (!Number.isFinite(n)) throw errors.badSetting('incident', which, 'an episode number, epoch ms or an ISO time');
  const exact = incidents.filter((i) => i.episode === n || i.startedAt === n);
  const found = exact.length ? exact : incidents.filter((i) => n > 1e11 && i.startedAt <= n && (i.recoveredAt ?? Infinity) >= n);
  if (!found.length) throw errors.noSuchIncident(monitorId, which, zone);
  // Episodes are numbered per zone: the same number in two zones names two incidents.
  if (found.length > 1) throw errors.badSetting('incident', which, `it names ${found.map((i) => i.id).join(' and ')}: give the id, or --zone`);
  return found[0]!;
}

/** Turns history and event stream entries (see src/core/lua/recordResults-7.lua) into store records. */
import { errors } from '../core/errors.js';
import { STATUSES } from '../core/messages.js';
import { DECISION_REASONS, DECISION_VALUES, type Decision, type DecisionReason, type EventRecord, type HistoryRecord, type Status } from '../core/types.js';

// A stream entry that cannot become a record: CR_BAD_ENTRY, made by errors.badEntry(field, problem).
export { BadEntry } from '../core/errors.js';

const DECISIONS: ReadonlySet<string> = new Set(DECISION_VALUES);

function need(f: Record<string, string>, name: string): string {
  const v = f[name];
  if (v === undefined || v === '') throw errors.badEntry(name, 'is missing');
  return v;
}

function num(f: Record<string, string>, name: string): number {
  const n = Number(need(f, name));
  if (!Number.isFinite(n)) throw errors.badEntry(name, `is not a number: ${JSON.stringify(f[name])}`);
  return n;
}

function status(f: Record<string, string>, name: string): Status {
  const v = need(f, name);
  if (!STATUSES.has(v)) throw errors.badEntry(name, `is not healthy, failed or unknown: ${JSON.stringify(v)}`);
  return v as Status;
}

/** A result of a history entry as a record with id `<zone>:<id>` (`id` from entryRecords: `<entry id>:<index>`, or an older entry's id); throws BadEntry. */
export function toHistory(zone: string, entryId: string, f: Record<string, string>): HistoryRecord {
  const latency = f.latencyMs;
  const latencyMs = latency === undefined || latency === '' ? null : Number(latency);
  if (latencyMs !== null && !Number.isFinite(latencyMs)) throw errors.badEntry('latencyMs', `is not a number: ${JSON.stringify(latency)}`);
  return {
    id: `${zone}:${entryId}`,
    monitorId: need(f, 'monitorId'),
    zone: need(f, 'zone'),
    status: status(f, 'status'),
    message: f.message ?? '',
    latencyMs,
    checkedAt: num(f, 'checkedAt'),
    due: num(f, 'due'),
  };
}

/** A status or reaction event entry as a record with id `<zone>:<entry id>`; throws BadEntry. */
export function toEvent(zone: string, entryId: string, f: Record<string, string>): EventRecord {
  const kind = need(f, 'kind');
  if (kind !== 'status' && kind !== 'reaction') throw errors.badEntry('kind', `is not status or reaction: ${JSON.stringify(kind)}`);
  const record: EventRecord = {
    id: `${zone}:${entryId}`,
    kind,
    monitorId: need(f, 'monitorId'),
    zone: need(f, 'zone'),
    at: num(f, 'at'),
    status: status(f, 'status'),
    previousStatus: f.previousStatus ? status(f, 'previousStatus') : null,
    failcount: num(f, 'failcount'),
    message: f.message ?? '',
  };
  // Entries written before the audit (reactions) or before incidents were counted (status) have no episode.
  if (f.episode) record.episode = num(f, 'episode');
  if (kind === 'reaction') {
    record.reactionId = need(f, 'reactionId');
    const outcome = need(f, 'outcome');
    if (!DECISIONS.has(outcome)) throw errors.badEntry('outcome', `is not one of ${DECISION_VALUES.join(', ')}: ${JSON.stringify(outcome)}`);
    record.outcome = outcome as Decision;
    // Entries written before the audit have no reason, episode or due.
    if (f.reason) {
      if (!Object.hasOwn(DECISION_REASONS, f.reason)) throw errors.badEntry('reason', `is not one of ${Object.keys(DECISION_REASONS).join(', ')}: ${JSON.stringify(f.reason)}`);
      record.reason = f.reason as DecisionReason;
    }
    if (f.due) record.due = num(f, 'due');
    if (f.tookMs) record.tookMs = num(f, 'tookMs');
  }
  return record;
}

/**
 * A history stream entry holds up to HISTORY_PER_ENTRY results (recordResults-7.lua writes them): a field `n`, the
 * results ever added to the stream up to and with this entry's, then one field `r` per result, its values separated
 * by tabs in RESULT_FIELDS order, the message last (the rest of the text, tabs and all). Redis's work on a stream is
 * mostly per entry, and one field per result instead of nine name-value pairs spares it most of the work of adding
 * a result and of reading it back to the bridge. Entries of the older shapes (one result each: a field `result`
 * holding such a line, or one field per value) are still read.
 */
import { fieldsToObject } from './redis.js';
import { RESULTS_PER_ENTRY } from './result-outbox.js';
import { tabFields } from './tab-fields.js';

/** Most results in one history entry (HISTORY_PER_ENTRY in src/core/lua/include/historyWaiting.lua). */
export const HISTORY_PER_ENTRY = RESULTS_PER_ENTRY;
const COUNT_FIELD = 'n';
const PACKED_FIELD = 'r';
const RESULT_FIELD = 'result';
const RESULT_FIELDS = ['monitorId', 'zone', 'status', 'latencyMs', 'checkedAt', 'due', 'failcount', 'cacheOnly'] as const;

/** One result's line as fields by name; a short line lacks fields, and what reads it names the first one missing. */
function lineFields(line: string): Record<string, string> {
  const values = tabFields(line, RESULT_FIELDS.length);
  const out: Record<string, string> = {};
  RESULT_FIELDS.forEach((name, i) => {
    if (i < values.length) out[name] = values[i]!;
  });
  if (values.length > RESULT_FIELDS.length) out.message = values[RESULT_FIELDS.length]!;
  return out;
}

/** A record a stream entry holds: `id` is the entry's id, or `<entry id>:<index>` for each result of a packed history entry. */
export interface EntryRecord {
  id: string;
  fields: Record<string, string>;
}

/**
 * The records of a stream entry by name: each result of a packed history entry with its index, or the entry as one
 * record (events; history entries of the older shapes, a packed `result` line unpacked).
 */
export function entryRecords(id: string, raw: string[]): EntryRecord[] {
  if (raw[0] === COUNT_FIELD) {
    const out: EntryRecord[] = [];
    for (let i = 2; i + 1 < raw.length; i += 2) {
      if (raw[i] === PACKED_FIELD) out.push({ id: `${id}:${out.length}`, fields: lineFields(raw[i + 1]!) });
    }
    return out;
  }
  if (raw.length === 2 && raw[0] === RESULT_FIELD) return [{ id, fields: lineFields(raw[1]!) }];
  return [{ id, fields: fieldsToObject(raw) }];
}

/** The results of a history entry, any shape, as fields by name. */
export function entryResults(raw: string[]): Record<string, string>[] {
  return entryRecords('', raw).map((r) => r.fields);
}

/** `n` of a packed history entry and the results it holds; undefined for an entry of the older shapes. */
function packedCount(raw: string[] | undefined): { added: number; held: number } | undefined {
  if (!raw || raw[0] !== COUNT_FIELD) return undefined;
  return { added: Number(raw[1]), held: (raw.length - 2) / 2 };
}

/**
 * The results the history stream holds, from its length and its first and last entries' fields: the difference of
 * their `n`, whatever took entries away. While an entry of the older one-result shapes leads or ends the stream,
 * each entry counts one. The same count as historyWaiting in src/core/lua/include/historyWaiting.lua.
 */
export function historyWaiting(len: number, first: string[] | undefined, last: string[] | undefined): number {
  const a = packedCount(first);
  const b = packedCount(last);
  if (!a || !b) return len;
  const waiting = b.added - a.added + a.held;
  // Fewer than the entries could hold: the counter was lost apart from the stream.
  return Number.isFinite(waiting) && waiting >= len ? waiting : len;
}

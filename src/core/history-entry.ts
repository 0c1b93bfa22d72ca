/**
 * A history stream entry holds one result in one field, `result`: its values separated by tabs in RESULT_FIELDS
 * order, the message last (the rest of the text, tabs and all). recordResults-n.lua writes it; one field instead of
 * nine name-value pairs spares Redis most of the work of adding the entry and of reading it back to the bridge.
 */
import { fieldsToObject } from './redis.js';

export const RESULT_FIELD = 'result';
const RESULT_FIELDS = ['monitorId', 'zone', 'status', 'latencyMs', 'checkedAt', 'due', 'failcount', 'cacheOnly'] as const;

/**
 * The fields of a stream entry by name: a history entry's packed result unpacked, any other entry (events, and
 * history entries written one field per value before results were packed) as it is.
 */
export function entryFields(raw: string[]): Record<string, string> {
  if (raw.length !== 2 || raw[0] !== RESULT_FIELD) return fieldsToObject(raw);
  const line = raw[1]!;
  const out: Record<string, string> = {};
  let from = 0;
  for (const name of RESULT_FIELDS) {
    const tab = line.indexOf('\t', from);
    // A short line lacks fields: what reads it names the first one missing.
    if (tab < 0) return out;
    out[name] = line.slice(from, tab);
    from = tab + 1;
  }
  out.message = line.slice(from);
  return out;
}

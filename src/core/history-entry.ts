/**
 * A history stream entry holds one result in one field, `result`: its values separated by tabs in RESULT_FIELDS
 * order, the message last (the rest of the text, tabs and all). recordResults-n.lua writes it; one field instead of
 * nine name-value pairs spares Redis most of the work of adding the entry and of reading it back to the bridge.
 */
import { fieldsToObject } from './redis.js';
import { tabFields } from './tab-fields.js';

export const RESULT_FIELD = 'result';
const RESULT_FIELDS = ['monitorId', 'zone', 'status', 'latencyMs', 'checkedAt', 'due', 'failcount', 'cacheOnly'] as const;

/**
 * The fields of a stream entry by name: a history entry's packed result unpacked, any other entry (events, and
 * history entries written one field per value before results were packed) as it is.
 */
export function entryFields(raw: string[]): Record<string, string> {
  if (raw.length !== 2 || raw[0] !== RESULT_FIELD) return fieldsToObject(raw);
  const values = tabFields(raw[1]!, RESULT_FIELDS.length);
  const out: Record<string, string> = {};
  // A short line lacks fields: what reads it names the first one missing.
  RESULT_FIELDS.forEach((name, i) => {
    if (i < values.length) out[name] = values[i]!;
  });
  if (values.length > RESULT_FIELDS.length) out.message = values[RESULT_FIELDS.length]!;
  return out;
}

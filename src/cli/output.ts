import { errors } from '../core/errors.js';

/** Printing for the CLI: aligned tables for people, JSON for scripts. */

/** Prints rows as an aligned table with a header; `(none)` when empty. */
export function printTable(headers: string[], rows: (string | number | null | undefined)[][]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const r of cells) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** ISO time of an epoch-ms value, or null. */
export function isoTime(ms: number | null | undefined): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

/** Parses a --data argument, naming the option when it is not JSON. */
export function parseJsonOption(text: string, option: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.badJson(option, (err as Error).message);
  }
}

/** A commander parser for an integer option in [min, max]; anything else is a usage error naming the option. */
export function intOption(option: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw errors.badSetting(option, value, `it must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
    }
    return n;
  };
}

/** An integer setting from the environment, checked as intOption checks a flag; `fallback` when unset. */
export function envInt(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : intOption(name, min, max)(value);
}

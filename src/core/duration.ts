import { errors } from './errors.js';
import { MAX_DURATION_S } from './limits.js';

const TOO_LONG = `at most ${MAX_DURATION_S / 86_400}d`;

/** Parses `10s`, `1m`, `5m`, `2h`, `1d` or a plain number of seconds into seconds; refuses what is not a finite, non-negative, sensible duration. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RangeError(`duration ${input} must be a non-negative number of seconds`);
    if (input > MAX_DURATION_S) throw new RangeError(`duration ${input} is too long: ${TOO_LONG} (${MAX_DURATION_S} seconds)`);
    return input;
  }
  if (typeof input !== 'string') throw new RangeError(`duration ${JSON.stringify(input)} is not a number of seconds or a text such as 10s`);
  const m = /^\s*(\d{1,15}(?:\.\d{1,9})?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!m) throw new RangeError(`duration "${input.slice(0, 40)}" is not understood: use a number of seconds or e.g. 10s, 1m, 5m, 2h`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[unit]!;
  const seconds = n * factor;
  if (seconds > MAX_DURATION_S) throw new RangeError(`duration "${input}" is too long: ${TOO_LONG}`);
  return seconds;
}

/** Formats seconds compactly: 90 -> "1m30s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/** A duration setting (`5s`, `500ms`) in ms, `fallback` when unset; refused naming the setting outside [minMs, maxMs]. */
export function durationSettingMs(name: string, fallback: number, minMs: number, maxMs: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = env[name];
  if (!v) return fallback;
  let ms: number;
  try {
    ms = Math.round(parseDuration(v) * 1000);
  } catch (err) {
    throw errors.badSetting(name, v, (err as Error).message);
  }
  if (ms < minMs || ms > maxMs) throw errors.badSetting(name, v, `give a duration from ${minMs < 1000 ? `${minMs}ms` : formatDuration(minMs / 1000)} to ${formatDuration(maxMs / 1000)}, e.g. ${formatDuration(fallback / 1000)}`);
  return ms;
}

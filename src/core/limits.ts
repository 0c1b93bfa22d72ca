/**
 * The limits a monitor, a reaction and the jobs made from them may have: one source for the API, the CLI, apply,
 * the bridge, the control and the message decoders, so nothing accepted at save time is refused later.
 */
/** Shortest time between two checks of a monitor, in seconds. */
export const MIN_INTERVAL_S = 1;
/** Longest time between two checks of a monitor, in seconds (7 days). */
export const MAX_INTERVAL_S = 7 * 86_400;
/** Longest least time between two runs of a reaction for one monitor, in seconds (30 days). */
export const MAX_FREQUENCY_S = 30 * 86_400;
/** Longest duration parseDuration reads, in seconds (365 days): beyond it a value is a mistake, not a setting. */
export const MAX_DURATION_S = 365 * 86_400;
/** Shortest and longest time limit of one check or of a job (`timeoutMs`), in milliseconds. */
export const MIN_TIMEOUT_MS = 1;
export const MAX_TIMEOUT_MS = 600_000;
/** Most consecutive failures a reaction's trigger may wait for. */
export const MAX_TRIGGER = 100_000;
/** Longest id (monitor, reaction, zone, module name) in characters. */
export const MAX_ID_LENGTH = 100;
/** A plain name, as module names (ctype, rtype, a plug-in's folder) and zone names are: lowercase letters, digits and dashes. */
export const PLAIN_NAME = /^[a-z0-9][a-z0-9-]*$/;
/** Longest monitor or reaction name in characters. */
export const MAX_NAME_LENGTH = 500;
/** Longest result message in characters. */
export const MAX_MESSAGE_LENGTH = 10_000;
/** Largest `data` of a monitor or reaction, as stored and as sent in a job: bytes of its JSON (64 KiB). */
export const MAX_DATA_BYTES = 64 * 1024;
/** Longest a worker holds a job sent ahead before starting it, whatever due it says (a forged one would hold a slot for hours). */
export const MAX_HOLD_MS = 1000;
/** Most zones a monitor may name, and most reactions it may use. */
export const MAX_ZONES = 100;
export const MAX_REACTIONS = 1000;

/** What is wrong with an interval of `seconds`, or undefined when it is within the limits. */
export function intervalProblem(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < MIN_INTERVAL_S || seconds > MAX_INTERVAL_S) {
    return `it must be a whole number of seconds, at least ${MIN_INTERVAL_S}s and at most ${MAX_INTERVAL_S / 86_400}d (e.g. 10s, 1m, 5m)`;
  }
  return undefined;
}

/** What is wrong with a reaction frequency of `seconds`, or undefined. */
export function frequencyProblem(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_FREQUENCY_S) {
    return `a duration from 0 to ${MAX_FREQUENCY_S / 86_400}d, such as 30s or 5m`;
  }
  return undefined;
}

/** Most runs a reaction's budget may allow in its window. */
export const MAX_BUDGET_RUNS = 10_000;
/** Shortest and longest budget window, in seconds (1 s to 30 days). */
export const MIN_BUDGET_PER_S = 1;
export const MAX_BUDGET_PER_S = 30 * 86_400;
/** A fix's budget when it names none: 3 runs per monitor within any hour. */
export const DEFAULT_FIX_BUDGET = { maxRuns: 3, per: 3600 } as const;
/** A target's budget until `cloudroutes target set` gives one: every fix naming it together runs once within any hour. */
export const DEFAULT_TARGET_BUDGET = { maxRuns: 1, per: 3600 } as const;
/** A fix's closed loop when it names none: checked every 5 s for 2 min after it runs; 2 not-fixed runs open its breaker, 30 min healthy close it. */
export const DEFAULT_FIX_LOOP = { verifyEvery: 5, verifyFor: 120, breaker: 2, breakerReset: 1800 } as const;
/** Longest verification window and breaker reset, in seconds (1 day and 30 days); most consecutive not-fixed runs. */
export const MAX_VERIFY_FOR_S = 86_400;
export const MAX_BREAKER_RESET_S = 30 * 86_400;
export const MAX_BREAKER = 1000;

/** What is wrong with a fix's closed loop (verify-every, verify-for, breaker, breaker-reset), as [field, problem], or undefined. */
export function loopProblem(r: { verifyEvery?: unknown; verifyFor?: unknown; breaker?: unknown; breakerReset?: unknown }): [string, string] | undefined {
  const seconds = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
  if (r.verifyFor !== undefined && !seconds(r.verifyFor, 0, MAX_VERIFY_FOR_S)) return ['verify-for', `a duration from 0 (no verification) to ${MAX_VERIFY_FOR_S / 3600}h, such as 2m`];
  if (r.verifyEvery !== undefined && !seconds(r.verifyEvery, 1, MAX_VERIFY_FOR_S)) return ['verify-every', 'a duration of at least 1s, such as 5s'];
  if (typeof r.verifyEvery === 'number' && typeof r.verifyFor === 'number' && r.verifyFor > 0 && r.verifyEvery > r.verifyFor) {
    return ['verify-every', `at most --verify-for (${r.verifyFor}s): checks every ${r.verifyEvery}s would not fit in the window`];
  }
  if (r.breaker !== undefined && !(typeof r.breaker === 'number' && Number.isInteger(r.breaker) && r.breaker >= 1 && r.breaker <= MAX_BREAKER)) {
    return ['breaker', `a whole number of consecutive not-fixed runs, 1 to ${MAX_BREAKER}`];
  }
  if (r.breakerReset !== undefined && !seconds(r.breakerReset, 1, MAX_BREAKER_RESET_S)) return ['breaker-reset', `a duration from 1s to ${MAX_BREAKER_RESET_S / 86_400}d, such as 30m`];
  return undefined;
}

/** Longest target name in characters. */
export const MAX_TARGET_LENGTH = 200;
/** A target name: a host, a DNS record, a service; letters, digits and . _ : @ / - (no spaces, no tabs). */
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/;

/** What is wrong with a budget's most runs, or undefined. */
export function maxRunsProblem(n: unknown): string | undefined {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_BUDGET_RUNS) return `a whole number of runs, 1 to ${MAX_BUDGET_RUNS}`;
  return undefined;
}

/** What is wrong with a budget's window of `seconds`, or undefined. */
export function perProblem(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < MIN_BUDGET_PER_S || seconds > MAX_BUDGET_PER_S) {
    return `a duration from ${MIN_BUDGET_PER_S}s to ${MAX_BUDGET_PER_S / 86_400}d, such as 10m or 1h`;
  }
  return undefined;
}

/** What is wrong with a target name, or undefined. */
export function targetProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length > MAX_TARGET_LENGTH || !TARGET_NAME.test(name)) {
    return `a plain name of at most ${MAX_TARGET_LENGTH} characters: letters, digits and . _ : @ / - (e.g. web-1.example.com)`;
  }
  return undefined;
}

/** Whether `ms` is a usable time limit: a whole number of milliseconds from MIN_TIMEOUT_MS to MAX_TIMEOUT_MS. */
export function isTimeoutMs(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isInteger(ms) && ms >= MIN_TIMEOUT_MS && ms <= MAX_TIMEOUT_MS;
}

/** What is wrong with a `timeoutMs`, or undefined. */
export function timeoutProblem(ms: unknown): string | undefined {
  return isTimeoutMs(ms) ? undefined : `it must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`;
}

/** A job's time limit when the monitor's data sets no timeoutMs. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/**
 * The time limit of a monitor's job: its data.timeoutMs, else `defaultMs`, never longer than its interval and always
 * within the limits, so the job passes the decoder whatever the control was given.
 */
export function jobTimeoutMs(monitor: { interval: number; data: Record<string, unknown> }, defaultMs: number): number {
  const own = monitor.data.timeoutMs;
  const wanted = isTimeoutMs(own) ? own : isTimeoutMs(defaultMs) ? defaultMs : 10_000;
  const perInterval = Math.floor(monitor.interval * 1000);
  return Math.min(wanted, perInterval >= MIN_TIMEOUT_MS ? perInterval : MIN_TIMEOUT_MS);
}

/** Bytes of `data` as JSON: what MAX_DATA_BYTES bounds. */
export function dataBytes(data: unknown): number {
  return Buffer.byteLength(JSON.stringify(data) ?? '');
}

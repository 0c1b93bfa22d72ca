/** Seconds since `mtimeMs`; 0 for a time ahead of the clock (a file written just before a clock step). */
export function ageSeconds(mtimeMs: number, now = Date.now()): number {
  return Math.max(0, (now - mtimeMs) / 1000);
}

/** 5400 -> "1h30m", 42 -> "42s". */
export function formatAge(seconds: number): string {
  const s = Math.round(seconds);
  const parts: [number, string][] = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('') || '0s';
}

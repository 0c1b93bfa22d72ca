/** Small pieces the dashboard pages share: status badges, times, latencies and masked data. */
import type { Decision, Status } from '../../core/types.js';
import { html, type Html } from './html.js';

/** A coloured badge for a monitor status or a reaction decision. */
export function badge(value: Status | Decision): Html {
  return html`<span class="badge badge-${value}">${value}</span>`;
}

/** ISO time in UTC, or an empty string. */
export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : new Date(ms).toISOString();
}

/** "4 s ago", "12 min ago", "3 h ago", "2 d ago". */
export function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A <time> that reads as "4 s ago" and carries the exact time; "never" without one. */
export function when(ms: number | null | undefined, now: number): Html {
  if (ms === null || ms === undefined) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso(ms)}" title="${iso(ms)}">${ago(ms, now)}</time>`;
}

/** "12 ms", or a dash. */
export function latency(ms: number | null | undefined): Html {
  return ms === null || ms === undefined ? html`<span class="muted">–</span>` : html`${Math.round(ms)} ms`;
}


export { monitorHref } from '../../core/links.js';

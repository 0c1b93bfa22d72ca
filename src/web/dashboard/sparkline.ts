/** A latency chart as inline SVG, drawn on the server: no script, no image request. */
import type { Status } from '../../core/types.js';
import { html, type Html } from './html.js';

export interface Point {
  at: number;
  latencyMs: number | null;
  status: Status;
}

export interface ChartBox {
  /** The time span drawn, epoch ms. */
  from: number;
  to: number;
  width: number;
  height: number;
  /** Time slots: each shows the highest latency of its results, and a red mark when one of them failed. */
  slots: number;
  /** Results further apart than this are not joined: the line shows a gap in checking (default: always joined). */
  gapMs?: number;
  /** Stretch to the width of its container (the line keeps its thickness). */
  fluid?: boolean;
}

export interface ChartSummary {
  checks: number;
  failures: number;
  /** Lowest and highest latency of the results; null when none was measured. */
  minMs: number | null;
  maxMs: number | null;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** The points' latency over time as a line, failures as red marks along the bottom. */
export function sparkline(points: readonly Point[], box: ChartBox): Html {
  return chart(points, box).svg;
}

/** What the results in one time slot add up to. */
export interface Slot {
  checks: number;
  failed: number;
  /** Lowest and highest measured latency; null when none was measured. */
  minMs: number | null;
  maxMs: number | null;
}

export const emptySlot = (): Slot => ({ checks: 0, failed: 0, minMs: null, maxMs: null });

/** Adds `more` into `slot`. */
export function addSlot(slot: Slot, more: Slot): void {
  slot.checks += more.checks;
  slot.failed += more.failed;
  if (more.minMs !== null) slot.minMs = slot.minMs === null ? more.minMs : Math.min(slot.minMs, more.minMs);
  if (more.maxMs !== null) slot.maxMs = slot.maxMs === null ? more.maxMs : Math.max(slot.maxMs, more.maxMs);
}

/** The points of the box's span summed into its slots: slot floor((at - from) * slots / (to - from)), the last one holding `to`. */
export function slotsOf(points: readonly Point[], box: Pick<ChartBox, 'from' | 'to' | 'slots'>): Slot[] {
  const { from, to, slots } = box;
  const out = Array.from({ length: slots }, emptySlot);
  for (const p of points) {
    if (p.at < from || p.at > to) continue;
    addSlot(out[Math.min(slots - 1, Math.floor(((p.at - from) * slots) / (to - from)))]!,
      { checks: 1, failed: p.status === 'failed' ? 1 : 0, minMs: p.latencyMs, maxMs: p.latencyMs });
  }
  return out;
}

/** The chart and what it shows, for a caption. */
export function chart(points: readonly Point[], box: ChartBox): { svg: Html; summary: ChartSummary } {
  return slotChart(slotsOf(points, box), box);
}

/** The chart of results already summed into the box's slots (one per slot), and what it shows. */
export function slotChart(slotted: readonly Slot[], box: ChartBox): { svg: Html; summary: ChartSummary } {
  const { width, height, slots } = box;
  const slotMs = (box.to - box.from) / slots;
  const top = slotted.map((s) => s.maxMs);
  const failed = slotted.map((s) => s.failed > 0);
  const checks = slotted.reduce((n, s) => n + s.checks, 0);
  const failures = slotted.reduce((n, s) => n + s.failed, 0);
  const min = Math.min(...slotted.map((s) => s.minMs ?? Infinity));
  const max = Math.max(1, ...top.map((v) => v ?? 0));
  const step = width / slots;
  const xy = (i: number) => `${r1(i * step + step / 2)} ${r1(height - 5 - (top[i]! / max) * (height - 8))}`;
  const segments: number[][] = [];
  let last = -Infinity;
  top.forEach((v, i) => {
    if (v === null) return;
    if ((i - last - 1) * slotMs > (box.gapMs ?? Infinity) || segments.length === 0) segments.push([]);
    segments[segments.length - 1]!.push(i);
    last = i;
  });
  // A lone result is a zero-length segment, which the round line cap draws as a dot.
  const path = segments.map((s) => `M${xy(s[0]!)}${s.length === 1 ? 'h0' : s.slice(1).map((i) => `L${xy(i)}`).join('')}`).join('');

  const measured = Number.isFinite(min);
  const summary = { checks, failures, minMs: measured ? Math.round(min) : null, maxMs: measured ? Math.round(max) : null };
  const label = checks === 0 ? 'no results in this span'
    : `${checks} results, latency ${measured ? `${summary.minMs}–${summary.maxMs} ms` : 'not measured'}, ${failures} failed`;
  const size = box.fluid ? html`width="100%" height="${height}" preserveAspectRatio="none"` : html`width="${width}" height="${height}"`;
  const svg = html`<svg class="spark" ${size} viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}"><title>${label}</title>${
    failed.map((f, i) => f && html`<rect class="spark-fail" x="${r1(i * step)}" y="${height - 3}" width="${r1(Math.max(step, 1.5))}" height="3"/>`)
  }${path && html`<path class="spark-line" d="${path}"/>`}</svg>`;
  return { svg, summary };
}

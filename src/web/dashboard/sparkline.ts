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

/** The chart and what it shows, for a caption. */
export function chart(points: readonly Point[], box: ChartBox): { svg: Html; summary: ChartSummary } {
  const { from, to, width, height, slots } = box;
  const slotMs = (to - from) / slots;
  const top = new Array<number | null>(slots).fill(null);
  const failed = new Array<boolean>(slots).fill(false);
  let checks = 0;
  let failures = 0;
  let min = Infinity;
  for (const p of points) {
    if (p.at < from || p.at > to) continue;
    const i = Math.min(slots - 1, Math.floor((p.at - from) / slotMs));
    checks++;
    if (p.status === 'failed') {
      failures++;
      failed[i] = true;
    }
    if (p.latencyMs !== null) {
      top[i] = Math.max(top[i] ?? 0, p.latencyMs);
      min = Math.min(min, p.latencyMs);
    }
  }
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

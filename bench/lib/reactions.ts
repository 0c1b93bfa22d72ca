/**
 * The bench's reactions (--reactions): a notify `log` reaction and a fix `log` reaction with a fix's default budget and
 * closed loop, written to the store and to Redis as the bridge would; what the bench measures of them (decisions by
 * outcome and reason, the verification checks a fix adds, the sink's CPU per result with and without them); and
 * their lines of the report.
 */
import type { Redis } from 'ioredis';
import { keys } from '../../src/core/keys.js';
import { DEFAULT_FIX_BUDGET, DEFAULT_FIX_LOOP } from '../../src/core/limits.js';
import { reactionRecordError } from '../../src/core/record-check.js';
import { DECISION_VALUES, type Reaction } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';

export const NOTIFY_ID = 'bench-notify';
export const FIX_ID = 'bench-fix';

/** Whether the i-th of the bench's monitors is one of the failing share `rate` (spread evenly: floor(n * rate) of n). */
export const isFailing = (i: number, rate: number): boolean => Math.floor((i + 1) * rate) > Math.floor(i * rate);

/** The reactions of level 1 (notify) or 2 (notify and fix), as `reaction add` would store them with no options. */
export function benchReactions(level: number): Reaction[] {
  const now = Date.now();
  const base = { trigger: 1, frequency: 0, callOn: 'failed' as const, once: false, rtype: 'log', data: {}, createdAt: now, updatedAt: now };
  const notify: Reaction = { ...base, id: NOTIFY_ID, name: 'bench notify (log)', kind: 'notify' };
  const fix: Reaction = { ...base, id: FIX_ID, name: 'bench fix (log)', kind: 'fix', ...DEFAULT_FIX_BUDGET, ...DEFAULT_FIX_LOOP };
  const chosen = level >= 2 ? [notify, fix] : level === 1 ? [notify] : [];
  for (const r of chosen) {
    const refused = reactionRecordError({ ...r });
    if (refused) throw new Error(`bench reaction ${r.id} is refused by the record check: ${refused.message}`);
  }
  return chosen;
}

/** Writes the reactions to the store of record (if any) and to the zone's Redis, as the bridge carries them. */
export async function putReactions(redis: Redis, zone: string, store: Store | undefined, reactions: Reaction[]): Promise<void> {
  for (const r of reactions) {
    await store?.putReaction(r);
    await redis.set(keys(zone).reaction(r.id), JSON.stringify(r));
  }
}

/**
 * Counts, every few seconds, how many of the failing monitors are being verified (their interval in the zone's
 * intervals hash is the fix's verify-every): the average gives the verification checks the window should hold.
 */
export class VerificationSampler {
  private sum = 0;
  private samples = 0;

  constructor(private readonly redis: Redis, private readonly zone: string, private readonly ids: string[], private readonly everyMs: number) {}

  async sample(): Promise<number> {
    let verifying = 0;
    for (let i = 0; i < this.ids.length; i += 5000) {
      const got = await this.redis.hmget(keys(this.zone).intervals, ...this.ids.slice(i, i + 5000));
      for (const v of got) if (Number(v) === this.everyMs) verifying++;
    }
    this.sum += verifying;
    this.samples++;
    return verifying;
  }

  /** Average number of failing monitors under verification over the samples taken. */
  get average(): number {
    return this.samples ? this.sum / this.samples : 0;
  }

  get count(): number {
    return this.samples;
  }
}

/** The decisions the zone's sinks counted between two readings of the counters hash: decision -> total and by reason. */
export function decisionsBetween(c0: Record<string, number>, c1: Record<string, number>): Record<string, { total: number; reasons: Record<string, number> }> {
  const out: Record<string, { total: number; reasons: Record<string, number> }> = {};
  const delta = (name: string) => (c1[name] ?? 0) - (c0[name] ?? 0);
  for (const d of DECISION_VALUES) {
    const total = delta(`sink.reactions.${d}`);
    if (!total) continue;
    const reasons: Record<string, number> = {};
    const prefix = `sink.reactions.${d}_`;
    for (const name of Object.keys(c1)) {
      if (name.startsWith(prefix) && delta(name)) reasons[name.slice(prefix.length).replace(/_/g, '-')] = delta(name);
    }
    out[d] = { total, reasons };
  }
  return out;
}

/** The sink's CPU over one phase: CPU seconds of every sink and the results they recorded (sink.results_recorded). */
export interface SinkPhase {
  seconds: number;
  cpuSec: number;
  results: number;
  /** Of those, failed results (the ones the reactions act on). */
  failedShare: number | null;
  /** CPU ms per result recorded. */
  msPerResult: number;
}

export interface ReactionsReport {
  /** 0, 1 (notify) or 2 (notify and fix). */
  level: number;
  monitors: number;
  failRate: number;
  failingMonitors: number;
  reactions: Reaction[];
  /** Seconds from writing the monitors naming the reactions to their being in Redis (through the bridge, or written straight). */
  attachSec: number;
  attachedBy: 'bridge' | 'redis';
  /** Log level of the sink (the log modules' lines at warn for failed results are written; the reactor's info lines are not). */
  sinkLogLevel: string;
  /** The fix's verification: its interval, failing monitors under verification on average in the window, and the checks that makes. */
  verification: {
    everyS: number;
    forS: number;
    averageVerifying: number;
    samples: number;
    /** Checks/s the failing monitors should make: the verifying ones every everyS, the rest every interval. */
    failingExpectedPerSec: number;
    /** What verification adds over the monitors' own intervals, checks/s. */
    extraPerSec: number;
    /** Results of failing monitors recorded in the window, per second. */
    failingAchievedPerSec: number;
    /** Every monitor's own interval plus extraPerSec; and what the window recorded, all monitors. */
    expectedTotalPerSec: number;
    achievedTotalPerSec: number;
  } | null;
  decisions: Record<string, { total: number; reasons: Record<string, number> }>;
  /** The phase before the reactions were attached, and the window with them; ratio = with / without. */
  sinkWithout: SinkPhase | null;
  sinkWith: SinkPhase;
  sinkCpuRatio: number | null;
}

const f1 = (n: number) => n.toFixed(1);
const f0 = (n: number) => Math.round(n).toLocaleString('en-US');

function phaseText(p: SinkPhase): string {
  const failed = p.failedShare === null ? '' : `, ${f1(100 * p.failedShare)}% of them failed`;
  return `${p.msPerResult.toFixed(3)} ms per result (${p.cpuSec.toFixed(2)} CPU s / ${f0(p.results)} results in ${f1(p.seconds)} s${failed})`;
}

/** The report's lines for the reactions, as [label, text]. */
export function reactionLines(r: ReactionsReport): [string, string][] {
  const out: [string, string][] = [];
  const names = r.reactions.map((x) => `${x.id} (${x.rtype}, ${x.kind}${x.kind === 'fix' ? `, budget ${x.maxRuns} per ${x.per}s, verify every ${x.verifyEvery}s for ${x.verifyFor}s, breaker ${x.breaker}` : ''})`);
  out.push(['reactions', `every monitor names ${names.join(' and ') || 'none'}; ${f0(r.failingMonitors)} monitors (${f1(100 * r.failRate)}%) check /fail, which the target answers 500; ` +
    `attached ${r.attachedBy === 'bridge' ? 'through the store and the bridge' : 'straight into Redis'} in ${f1(r.attachSec)} s; sink LOG_LEVEL ${r.sinkLogLevel} (each log reaction run on a failed result writes its line at warn; the reactor's info line per run is not written)`]);
  if (r.verification) {
    const v = r.verification;
    out.push(['verification', `${f1(v.averageVerifying)} failing monitors under verification on average (${v.samples} samples), each checked every ${v.everyS} s instead of its interval: ` +
      `expected ${f1(v.failingExpectedPerSec)} checks/s of failing monitors, ${f1(v.extraPerSec)} more than their intervals alone; achieved ${f1(v.failingAchievedPerSec)}`]);
    out.push(['expected in all', `${f1(v.expectedTotalPerSec)} checks/s (${f1(v.expectedTotalPerSec - v.extraPerSec)} at the monitors' intervals + ${f1(v.extraPerSec)} of verification), ` +
      `achieved ${f1(v.achievedTotalPerSec)}; the slots line counts the ${f0(r.monitors - r.failingMonitors)} monitors that do not fail (a verification moves a failing monitor's slots)`]);
  }
  const decided = Object.entries(r.decisions).map(([d, { total, reasons }]) => {
    const why = Object.entries(reasons).map(([k, n]) => `${k} ${f0(n)}`).join(', ');
    return `${d} ${f0(total)}${why ? ` (${why})` : ''}`;
  });
  out.push(['decisions', `${decided.join(', ') || 'none'} in the window (sink counters: held and skipped are counted every time, recorded once per episode)`]);
  if (r.sinkWithout) out.push(['sink CPU without', `${phaseText(r.sinkWithout)}: the phase after the warm-up, same cluster and failing monitors, before the monitors named the reactions`]);
  out.push(['sink CPU with', `${phaseText(r.sinkWith)}: the window${r.sinkCpuRatio !== null ? `; ratio with / without ${r.sinkCpuRatio.toFixed(2)}` : ''}`]);
  return out;
}

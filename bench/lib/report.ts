/** The bench's figures, printed for people and as one JSON object. */

export interface ProcRow {
  name: string;
  role: string;
  pid: number;
  /** CPU seconds since the process started. */
  cpuSec: number;
  /** CPU seconds inside the measured window. */
  windowCpuSec: number;
  peakRssMb: number;
  rssMb: number;
}

export interface Report {
  monitors: number;
  intervalSec: number;
  /** Whether the links were sealed with CURVE. */
  curve: boolean;
  durationSec: number;
  /** The window as measured (a little longer than asked). */
  windowSec: number;
  warmupSec: number;
  workers: number;
  sinks: number;
  brokers: number;
  workerConcurrency: number | 'default';
  addresses: number;
  loadSec: number;
  expectedPerSec: number;
  /** Slots due in the window, counted exactly from each monitor's first due time. */
  expectedInWindow: number;
  achievedPerSec: number;
  recordedInWindow: number;
  /** sink.results_recorded counter over the window (flushed once a second, so within a second's worth). */
  sinkCounterInWindow: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  lagSamples: number;
  startLagP50Ms: number;
  startLagP99Ms: number;
  startLagMaxMs: number;
  /** Jobs the broker dropped because they waited longer than their interval (also counted in unanswered). */
  expiredJobs: number;
  /** Jobs the broker pushed out of its full queue (also counted in unanswered). */
  queueFullJobs: number;
  resultLatencyP50Ms: number;
  resultLatencyP99Ms: number;
  resultLatencyMaxMs: number;
  checkedLatencyP50Ms: number;
  checkedLatencyP99Ms: number;
  /** Every slot due in the window: with a result, or counted under a reason (SLOT_REASONS), or neither (unaccounted). */
  slots: { due: number; recorded: number; reasons: Record<string, number>; unaccounted: number };
  /** CPU ms per recorded check by kind of process (workers and sinks summed; redis too). */
  cpuMsPerCheckByKind: Record<string, number>;
  /** The bridge and its store of record (null with --store none): history written in the window, what waited at its end. */
  store: { spec: string; historyWrittenInWindow: number; historyWaiting: number; eventsWaiting: number } | null;
  /** --redis-stats: Redis's top commands by time in the window, per check. */
  redisCommands: { command: string; callsPerCheck: number; usPerCheck: number }[] | null;
  /** controlMissedSlots + unanswered. */
  missed: number;
  /** control.missed_checks over the window: slots skipped because the control fell a whole interval behind. */
  controlMissedSlots: number;
  /** Slots due in the window with no recorded result graceMs after the window ended. */
  unanswered: number;
  graceMs: number;
  statuses: Record<string, number>;
  problems: Record<string, number>;
  targetServedInWindow: number | null;
  targetConnectionsInWindow: number | null;
  cpus: number;
  /** Busy CPU of the whole machine in the window, percent of one CPU (200 = both of 2 CPUs). */
  machineBusyPct: number;
  /** The bench process itself (progress polling). */
  benchCpuPct: number;
  /** Busy CPU not used by the bench or any of its children: other work on the machine, which skews the figures. */
  otherCpuPct: number;
  rawPerSec: number | null;
  rawErrors: number | null;
  rawCpuMsPerRequest: number | null;
  ratio: number | null;
  cpuMsPerCheck: number;
  processes: ProcRow[];
  rssTotalMb: number;
  rssTotalNowMb: number;
  redisPeakRssMb: number;
  targetPeakRssMb: number;
}

const f1 = (n: number) => n.toFixed(1);
const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

/** The readable report. */
export function formatReport(r: Report): string {
  const out: string[] = [];
  const line = (label: string, text: string) => out.push(`  ${pad(label, 17)}${text}`);
  out.push('CloudRoutes pipeline benchmark');
  line('setup', `${f0(r.monitors)} http-get-statuscode monitors every ${r.intervalSec} s over ${f0(r.addresses)} loopback addresses; ` +
    `${r.workers} worker(s) (concurrency ${r.workerConcurrency}), ${r.sinks} sink(s), 1 control, ${r.brokers} broker(s), ${r.store ? `a bridge to ${r.store.spec}` : 'no bridge'}; CURVE ${r.curve ? 'on' : 'off'}`);
  line('timing', `monitors loaded in ${f1(r.loadSec)} s, warm-up ${r.warmupSec} s (excluded), measured window ${f1(r.windowSec)} s`);
  line('expected', `${f1(r.expectedPerSec)} checks/s (${f0(r.expectedInWindow)} slots due in the window)`);
  line('achieved', `${f1(r.achievedPerSec)} checks/s (${f0(r.recordedInWindow)} results recorded in the window; sink counter ${f0(r.sinkCounterInWindow)})`);
  line('statuses', Object.entries(r.statuses).map(([k, v]) => `${k} ${f0(v)}`).join(', ') || 'none');
  for (const [msg, n] of Object.entries(r.problems)) line('', `${f0(n)} x ${msg}`);
  line('schedule lag', `p50 ${f0(r.lagP50Ms)} ms, p99 ${f0(r.lagP99Ms)} ms, max ${f0(r.lagMaxMs)} ms (send time - due, ${f0(r.lagSamples)} jobs)`);
  line('start lag', `p50 ${f0(r.startLagP50Ms)} ms, p99 ${f0(r.startLagP99Ms)} ms, max ${f0(r.startLagMaxMs)} ms (check start in a worker - due, queues included)`);
  line('result latency', `due -> recorded by sink: p50 ${f0(r.resultLatencyP50Ms)} ms, p99 ${f0(r.resultLatencyP99Ms)} ms, max ${f0(r.resultLatencyMaxMs)} ms` +
    ` (due -> check done: p50 ${f0(r.checkedLatencyP50Ms)} ms, p99 ${f0(r.checkedLatencyP99Ms)} ms)`);
  line('missed', `${f0(r.missed)} (control skipped ${f0(r.controlMissedSlots)} slots; ${f0(r.unanswered)} slots due in the window had no result ${r.graceMs / 1000} s after it, ${f0(r.expiredJobs + r.queueFullJobs)} of them dropped by the broker: ${f0(r.expiredJobs)} older than their interval, ${f0(r.queueFullJobs)} pushed out of its full queue)`);
  if (r.targetServedInWindow !== null) {
    line('target served', `${f0(r.targetServedInWindow)} requests on ${f0(r.targetConnectionsInWindow ?? 0)} connections in the window`);
  }
  if (r.rawPerSec !== null) {
    line('raw baseline', `${f1(r.rawPerSec)} req/s, one undici process, a new connection per request (${r.rawErrors} errors, ${r.rawCpuMsPerRequest!.toFixed(3)} ms CPU/request in the client)`);
    line('ratio', `${r.ratio!.toFixed(3)} (achieved / raw)`);
  }
  const reasons = Object.entries(r.slots.reasons).map(([k, v]) => `${k} ${f0(v)}`).join(', ') || 'no reason counted';
  line('slots', `${f0(r.slots.due)} due in the window: ${f0(r.slots.recorded)} recorded, ${reasons}; ${f0(r.slots.unaccounted)} without a result or a reason`);
  line('CPU per check', `${r.cpuMsPerCheck.toFixed(3)} ms in CloudRoutes processes (window CPU / results recorded; CURVE ${r.curve ? 'on' : 'off'})`);
  line('', Object.entries(r.cpuMsPerCheckByKind).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ') + ' ms');
  if (r.store) {
    const kept = r.store.historyWaiting < r.expectedPerSec * 5;
    line('store', `${r.store.spec}: the bridge wrote ${f0(r.store.historyWrittenInWindow)} history records in the window (${f1(r.store.historyWrittenInWindow / r.windowSec)}/s); ` +
      `waiting at its end: ${f0(r.store.historyWaiting)} results, ${f0(r.store.eventsWaiting)} events (${kept ? 'it keeps up' : 'it falls behind'})`);
  }
  if (r.redisCommands) {
    line('Redis per check', r.redisCommands.map((c) => `${c.command} ${c.usPerCheck.toFixed(1)} us (${c.callsPerCheck.toFixed(2)} calls)`).join(', '));
  }
  out.push('');
  out.push(`  ${pad('process', 14)}${lpad('pid', 8)}${lpad('CPU s', 9)}${lpad('window CPU s', 14)}${lpad('CPU %', 8)}${lpad('peak RSS MB', 13)}${lpad('RSS MB', 9)}`);
  for (const p of r.processes) {
    out.push(`  ${pad(p.name, 14)}${lpad(String(p.pid), 8)}${lpad(p.cpuSec.toFixed(2), 9)}${lpad(p.windowCpuSec.toFixed(2), 14)}` +
      `${lpad(((100 * p.windowCpuSec) / r.windowSec).toFixed(0), 8)}${lpad(f1(p.peakRssMb), 13)}${lpad(f1(p.rssMb), 9)}`);
  }
  line('machine CPU', `${f0(r.machineBusyPct)}% busy of ${r.cpus * 100}% (${r.cpus} CPUs) in the window; the bench itself ${f0(r.benchCpuPct)}%, ` +
    `other processes ${f0(r.otherCpuPct)}%${r.otherCpuPct > 10 ? ' (the machine was not quiet: figures are skewed)' : ''}`);
  out.push('');
  line('RSS', `CloudRoutes processes together: peak ${f1(r.rssTotalMb)} MB (sum of each one's peak), now ${f1(r.rssTotalNowMb)} MB; ` +
    `redis-server peak ${f1(r.redisPeakRssMb)} MB, target peak ${f1(r.targetPeakRssMb)} MB (not included)`);
  return out.join('\n');
}

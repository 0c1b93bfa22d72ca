/**
 * The pipeline benchmark: a real cluster (broker, control, workers, sinks as separate processes),
 * a real redis-server and an HTTP target, N monitors loaded into Redis, then checks/s, schedule
 * lag, result latency, missed checks, CPU and memory measured over a window, next to the raw
 * rate of one undici process making fresh-connection requests against the same target.
 */
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { readBacklog } from '../src/core/backlog.js';
import { keys, lagKey, startLagKey } from '../src/core/keys.js';
import type { Reaction } from '../src/core/types.js';
import { openStore } from '../src/store/open.js';
import { firstJsonLine, startChild, stopAll, stopChild, type Child } from './lib/children.js';
import { positiveInt as positive, progressTo, runBench, type BenchRun } from './lib/lifecycle.js';
import { BENCH_LOG_LEVEL, startBridgeProcess, startCluster, waitForClients } from './lib/cluster.js';
import { commandStats, topPerCheck } from './lib/redis-stats.js';
import { SLOT_REASONS } from '../src/core/slot-reasons.js';
import { HistoryReader, readCounters, readLag, readStartLag, slotsIn } from './lib/measure.js';
import { loadMonitors, monitorId, storeMonitors, type LoadOptions } from './lib/monitors.js';
import { freePortRange } from './lib/ports.js';
import { machineCpu, sampleProc, type ProcSample } from './lib/procstat.js';
import { startRedis, type BenchRedis } from './lib/redis.js';
import { formatReport, type ProcRow, type Report } from './lib/report.js';
import { benchReactions, decisionsBetween, FIX_ID, isFailing, putReactions, reactionLines, VerificationSampler, type ReactionsReport, type SinkPhase } from './lib/reactions.js';
import type { Store } from '../src/store/store.js';

const TARGET = fileURLToPath(new URL('./lib/target-server.js', import.meta.url));
const RAW = fileURLToPath(new URL('./lib/raw-client.js', import.meta.url));
const ZONE = 'bench';
const GRACE_MS = 5000;

const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be an integer >= 0`);
  return n;
};

const share = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('--fail-rate is a share from 0 to 1, such as 0.05');
  return n;
};

const reactionLevel = (v: string) => {
  if (v !== '0' && v !== '1' && v !== '2') throw new InvalidArgumentError('--reactions takes 0, 1 (a notify) or 2 (a notify and a fix)');
  return Number(v);
};

const onOff = (v: string) => {
  if (v !== 'on' && v !== 'off') throw new InvalidArgumentError('--curve takes on or off');
  return v === 'on';
};

const program = new Command('npm run bench --')
  .description(
    'Benchmarks the monitoring path end to end on this machine: starts redis-server, an HTTP target (node:http, own process) ' +
      'and broker, control, worker(s), sink(s) and a bridge to a store of record as separate processes (as the Procfile runs them), loads N http-get-statuscode ' +
      'monitors straight into Redis, and after a warm-up measures checks/s, schedule lag, result latency, missed checks, CPU and ' +
      'RSS per process. Before the cluster starts it measures the raw rate of one undici process making fresh-connection GETs ' +
      'against the same target, and prints achieved / raw.',
  )
  .option('--monitors <n>', 'monitors to load', positive('--monitors'), 100_000)
  .option('--interval <s>', 'check interval of every monitor, seconds', positive('--interval'), 60)
  .option('--duration <s>', 'measured window, seconds (after the warm-up)', positive('--duration'), 120)
  .option('--warmup <s>', "seconds run before the window, excluded (default: one interval and 5 s, so every monitor has had its first result, which writes its whole state and a status event once in the monitor's life, and the window measures the steady state)", nonNegative('--warmup'))
  .option('--workers <n>', 'worker processes; 2 (one per core) had the highest capacity on 2 cores: ~6,800 checks/s vs ~6,200 with 1, whose event loop saturates; 3 gained nothing and cost ~180 MB', positive('--workers'), 2)
  .option('--sinks <n>', 'sink processes', positive('--sinks'), 1)
  .option('--brokers <n>', 'broker processes; controls, workers and sinks connect to all of them (CLOUDROUTES_BROKER=host:port,host:port)', positive('--brokers'), 1)
  .option('--concurrency <n>', "checks each worker runs at once (default: the worker's own default)", positive('--concurrency'))
  .option('--addresses <n>', 'loopback addresses 127.a.b.c the monitors are spread over', positive('--addresses'), 4096)
  .option('--raw-seconds <s>', 'length of the raw undici baseline, seconds (0 skips it)', nonNegative('--raw-seconds'), 10)
  .option('--raw-concurrency <n>', 'requests in flight in the raw baseline', positive('--raw-concurrency'), 256)
  .option('--batch <n>', 'applyMonitor commands per Redis pipeline while loading', positive('--batch'), 1000)
  .option('--curve <on|off>', 'seal the links between broker, control, workers and sinks with CURVE, as a multi-machine cluster runs', onOff, false)
  .option('--store <spec>', 'store of record the bridge keeps the monitors in and drains history and events into: sqlite (a new file in the temp dir), a rethinkdb:// URL, or none (no bridge: history stays in Redis)', 'sqlite')
  .option('--cpu-prof <dir>', 'run every CloudRoutes process with node --cpu-prof, writing <process>.cpuprofile into <dir>')
  .option('--redis-stats', "print the 10 Redis commands that took most of Redis's time in the window, per check (INFO commandstats; commands inside scripts count under their own name too)")
  .option('--keep-logs', "keep the processes' logs in a new temp dir and print where (deleted otherwise)")
  .option('--fail-rate <share>', 'share of monitors (0 to 1) that check /fail, which the target answers 500', share, 0)
  .option('--reactions <n>', "reactions every monitor names, both of rtype log: 0 none, 1 a notify, 2 a notify and a fix (a fix's defaults: budget 3 per 1h, " +
    'verified every 5 s for 2 min, breaker 2). The sink runs at LOG_LEVEL warn, so each run on a failed result writes its log line. With 1 or 2 the monitors ' +
    'first run without them for --baseline seconds after the warm-up (the sink CPU per result without reactions, measured in this run), then name them ' +
    '(through the store and the bridge, or straight into Redis with --store none), then one interval and 5 s pass (excluded: every failing monitor gets its ' +
    "first fix run and verification) before the window, which is measured with them. A fix's verification checks its failing monitors every 5 s: reported " +
    'apart from the monitors\' own checks/s', reactionLevel, 0)
  .option('--baseline <s>', 'with --reactions 1 or 2: seconds measured before the reactions are attached (sink CPU per result without them)', positive('--baseline'), 60)
  .option('--json', 'also print every figure as one JSON object on the last line of stdout')
  .addHelpText('after', `
Examples:
  npm run bench -- --monitors 1000 --interval 10 --duration 20
  npm run bench -- --monitors 100000 --interval 60 --duration 120 --json
  npm run bench -- --monitors 20000 --interval 20 --duration 30 --curve on
  npm run bench -- --monitors 100000 --interval 60 --brokers 2 --redis-stats
  npm run bench -- --monitors 20000 --interval 20 --store rethinkdb://127.0.0.1:28015/bench
  npm run bench -- --monitors 100000 --interval 60 --duration 120 --fail-rate 0.05 --reactions 2

Progress goes to stderr; the report (and the JSON line) to stdout. Every child process and temp dir is
removed at the end, also on Ctrl-C or error. Linux only (reads /proc for CPU and memory).`)
  .showHelpAfterError();

interface Options {
  monitors: number;
  interval: number;
  duration: number;
  warmup?: number;
  workers: number;
  sinks: number;
  brokers: number;
  concurrency?: number;
  addresses: number;
  rawSeconds: number;
  rawConcurrency: number;
  batch: number;
  curve: boolean;
  store: string;
  redisStats?: boolean;
  cpuProf?: string;
  keepLogs?: boolean;
  json?: boolean;
  failRate: number;
  reactions: number;
  baseline: number;
}

const progress = progressTo('bench');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let redis: BenchRedis | undefined;

/** Sleeps `seconds` while printing progress every 5 s from the counters hash; fails fast if a child died. */
async function runFor(seconds: number, label: string, crashed: Promise<never>, onTick?: () => Promise<string>): Promise<void> {
  const end = Date.now() + seconds * 1000;
  let last = await readCounters(redis!.client, ZONE);
  let lastAt = Date.now();
  while (Date.now() < end) {
    await Promise.race([sleep(Math.min(5000, end - Date.now())), crashed]);
    const now = await readCounters(redis!.client, ZONE);
    const secs = (Date.now() - lastAt) / 1000;
    const rate = (name: string) => ((now[name] ?? 0) - (last[name] ?? 0)) / secs;
    const lag = await readLag(redis!.client, ZONE);
    const startLag = await readStartLag(redis!.client, ZONE);
    progress(
      `${label} ${Math.max(0, Math.round((end - Date.now()) / 1000))} s left: sent ${rate('control.jobs_sent').toFixed(0)} jobs/s, ` +
        `recorded ${rate('sink.results_recorded').toFixed(0)} results/s, missed slots so far ${now['control.missed_checks'] ?? 0}, ` +
        `jobs dropped by the broker ${(now['broker.jobs_expired'] ?? 0) + (now['broker.jobs_dropped_queue_full'] ?? 0)}, lag p99 ${lag.quantile(0.99)} ms max ${lag.max} ms, ` +
        `start lag p99 ${startLag.quantile(0.99)} ms${onTick ? `, ${await onTick()}` : ''}`,
    );
    last = now;
    lastAt = Date.now();
  }
}

function procRows(children: Child[], start: Map<number, ProcSample>, end: Map<number, ProcSample>): ProcRow[] {
  return children.map((c) => {
    const e = end.get(c.pid) ?? { cpuSec: 0, rssMb: 0, peakRssMb: 0 };
    const s = start.get(c.pid) ?? e;
    return { name: c.name, role: c.role, pid: c.pid, cpuSec: e.cpuSec, windowCpuSec: e.cpuSec - s.cpuSec, peakRssMb: e.peakRssMb, rssMb: e.rssMb };
  });
}

interface Served {
  served: number;
  connections: number;
}

/** Asks the target how many requests and connections it has had; NaNs when it does not answer within 2 s. */
async function targetServed(target: Child): Promise<Served> {
  const answer = new Promise<Served>((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /\{"served":(\d+),"connections":(\d+)\}/.exec(buf);
      if (m) {
        target.proc.stdout!.off('data', onData);
        resolve({ served: Number(m[1]), connections: Number(m[2]) });
      }
    };
    target.proc.stdout!.on('data', onData);
  });
  target.proc.stdout!.resume();
  target.proc.stdin!.write('count\n');
  return Promise.race([answer, sleep(2000).then(() => ({ served: NaN, connections: NaN }))]);
}

/** Waits until the zone's counter `name` reaches `n` (counters are flushed once a second). */
async function waitForCounter(client: BenchRedis['client'], name: string, n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (((await readCounters(client, ZONE))[name] ?? 0) < n) {
    if (Date.now() > deadline) throw new Error(`the bridge did not finish its first resync of the store within ${ms / 1000} s; see bridge.log`);
    await sleep(250);
  }
}

/** What waits in Redis for the store at the end of the window: the history and events streams' entries. */
async function storeBacklog(client: BenchRedis['client']): Promise<{ historyWaiting: number; eventsWaiting: number }> {
  const b = await readBacklog(client, ZONE, 0);
  return { historyWaiting: b.history.waiting, eventsWaiting: b.events.waiting };
}

const sinksOf = (children: Child[]) => children.filter((c) => c.role === 'cloudroutes' && c.name.startsWith('sink'));
const cpuOf = (children: Child[]) => children.reduce((sum, c) => sum + (sampleProc(c.pid)?.cpuSec ?? 0), 0);
const between = (c0: Record<string, number>, c1: Record<string, number>) => (name: string) => (c1[name] ?? 0) - (c0[name] ?? 0);

/** The sinks' CPU per result recorded over a phase; the failed share from the workers' check counters. */
function sinkPhase(seconds: number, cpuSec: number, c0: Record<string, number>, c1: Record<string, number>): SinkPhase {
  const d = between(c0, c1);
  const results = d('sink.results_recorded');
  const checks = d('worker.checks.healthy') + d('worker.checks.failed') + d('worker.checks.unknown');
  return { seconds, cpuSec, results, failedShare: checks ? d('worker.checks.failed') / checks : null, msPerResult: results ? (1000 * cpuSec) / results : 0 };
}

interface Attached {
  without: SinkPhase;
  attachSec: number;
  attachedBy: 'bridge' | 'redis';
}

/**
 * Measures the sinks for --baseline seconds while no monitor names a reaction, then makes every monitor name them
 * (in the store, which the bridge carries to Redis keeping each slot; straight into Redis without a store) and lets
 * one interval and 5 s pass, so that every failing monitor has had its first fix run before the window.
 */
async function baselineThenAttach(o: Options, storeSpec: string | undefined, load: LoadOptions, cluster: Child[], crashed: Promise<never>): Promise<Attached> {
  const client = redis!.client;
  const sinks = sinksOf(cluster);
  const c0 = await readCounters(client, ZONE);
  const cpu0 = cpuOf(sinks);
  const t0 = Date.now();
  await runFor(o.baseline, 'baseline (no reactions)', crashed);
  const without = sinkPhase((Date.now() - t0) / 1000, cpuOf(sinks) - cpu0, c0, await readCounters(client, ZONE));
  progress(`sink CPU without reactions: ${without.msPerResult.toFixed(3)} ms per result; attaching ${load.reactions.join(', ')} to every monitor...`);
  const attachStart = Date.now();
  if (storeSpec) {
    const store: Store = await openStore(storeSpec);
    try {
      await storeMonitors(store, load, progress);
    } finally {
      await store.close();
    }
    // The bridge applies the store's changes in order: the last monitor naming them means every one does.
    const last = keys(ZONE).monitor(monitorId(o.monitors - 1));
    const deadline = Date.now() + 300_000;
    while (!((await client.get(last)) ?? '').includes(`"${load.reactions[0]}"`)) {
      if (Date.now() > deadline) throw new Error('the bridge did not carry the monitors naming the reactions to Redis within 300 s; see bridge.log');
      await Promise.race([sleep(250), crashed]);
    }
  } else {
    await loadMonitors(client, load);
  }
  const attachSec = (Date.now() - attachStart) / 1000;
  progress(`attached in ${attachSec.toFixed(1)} s; ${o.interval + 5} s for every monitor's first result with them (excluded)`);
  await runFor(o.interval + 5, 'reactions settling', crashed);
  return { without, attachSec, attachedBy: storeSpec ? 'bridge' : 'redis' };
}

interface WindowSeen {
  c0: Record<string, number>;
  c1: Record<string, number>;
  rows: ProcRow[];
  windowSec: number;
  sampler: VerificationSampler | undefined;
  failingIds: string[];
  perMonitor: Map<string, number>;
  achievedPerSec: number;
}

/** The reactions' figures of the window: decisions, verification checks, and the sinks' CPU per result against the baseline. */
function reactionsFigures(o: Options, reactions: Reaction[], a: Attached, w: WindowSeen): ReactionsReport {
  const sinkCpu = w.rows.filter((r) => r.role === 'cloudroutes' && r.name.startsWith('sink')).reduce((sum, r) => sum + r.windowCpuSec, 0);
  const sinkWith = sinkPhase(w.windowSec, sinkCpu, w.c0, w.c1);
  const fix = reactions.find((r) => r.id === FIX_ID);
  let verification: ReactionsReport['verification'] = null;
  if (fix && w.sampler) {
    const v = w.sampler.average;
    const everyS = fix.verifyEvery!;
    const failingResults = w.failingIds.reduce((sum, id) => sum + (w.perMonitor.get(id) ?? 0), 0);
    const extraPerSec = v / everyS - v / o.interval;
    verification = {
      everyS, forS: fix.verifyFor!, averageVerifying: v, samples: w.sampler.count,
      failingExpectedPerSec: v / everyS + (w.failingIds.length - v) / o.interval,
      extraPerSec,
      failingAchievedPerSec: failingResults / w.windowSec,
      expectedTotalPerSec: o.monitors / o.interval + extraPerSec, achievedTotalPerSec: w.achievedPerSec,
    };
  }
  return {
    level: o.reactions, monitors: o.monitors, failRate: o.failRate, failingMonitors: w.failingIds.length, reactions, attachSec: a.attachSec, attachedBy: a.attachedBy,
    sinkLogLevel: BENCH_LOG_LEVEL, verification, decisions: decisionsBetween(w.c0, w.c1),
    sinkWithout: a.without, sinkWith, sinkCpuRatio: a.without.msPerResult > 0 ? sinkWith.msPerResult / a.without.msPerResult : null,
  };
}

async function main(o: Options, run: BenchRun): Promise<void> {
  try {
    await measure(o, run);
  } finally {
    redis?.client.disconnect();
  }
}

async function measure(o: Options, run: BenchRun): Promise<void> {
  const warmup = o.warmup ?? o.interval + 5;
  const intervalMs = o.interval * 1000;
  const { crashed } = run;
  const tmp = (run.tmp = mkdtempSync(join(tmpdir(), 'cr-bench-')));

  redis = await startRedis(tmp);
  progress(`redis-server ${redis.url} (pid ${redis.child.pid})`);
  const target = startChild('target', 'target', process.execPath, [TARGET], { stdio: ['pipe', 'pipe', 'inherit'] });
  const { port } = await firstJsonLine<{ port: number }>(target, 10_000);
  progress(`HTTP target on 0.0.0.0:${port} (pid ${target.pid})`);

  let raw: { requests: number; errors: number; firstError: string; perSec: number; cpuSec: number } | undefined;
  if (o.rawSeconds > 0) {
    progress(`raw baseline: one undici process, fresh connection per request, ${o.rawConcurrency} in flight, ${o.rawSeconds} s...`);
    const child = startChild('raw-client', 'baseline', process.execPath, [RAW, String(port), String(o.addresses), String(o.rawSeconds), String(o.rawConcurrency)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stopping = true; // it exits by itself once it has printed its figures
    raw = await Promise.race([firstJsonLine<typeof raw & object>(child, (o.rawSeconds + 60) * 1000), crashed]);
    await stopChild(child);
    progress(`raw baseline: ${raw.perSec.toFixed(0)} req/s (${raw.errors} errors${raw.firstError ? `, e.g. ${raw.firstError}` : ''})`);
    await sleep(1000);
  }

  const brokerPortBases: number[] = [];
  for (let i = 0; i < o.brokers; i++) brokerPortBases.push(await freePortRange(2));
  const clusterOptions = {
    redisUrl: redis.url, zone: ZONE, brokerPortBases, workers: o.workers, sinks: o.sinks, concurrency: o.concurrency,
    logDir: tmp, cpuProfDir: o.cpuProf, curve: o.curve,
  };
  const cluster = startCluster(clusterOptions);
  progress(`cluster: ${cluster.map((c) => `${c.name} ${c.pid}`).join(', ')}; broker port bases ${brokerPortBases.join(', ')}`);
  await Promise.race([waitForClients(redis.client, cluster.length, 20_000), crashed]);
  await Promise.race([sleep(1000), crashed]);

  progress(`loading ${o.monitors} monitors (interval ${o.interval} s, random offset inside it)...`);
  const loadStart = Date.now();
  const load = { zone: ZONE, monitors: o.monitors, intervalSec: o.interval, port, addresses: o.addresses, batch: o.batch, failRate: o.failRate, reactions: [] as string[] };
  const reactions = benchReactions(o.reactions);
  const storeSpec = o.store === 'none' ? undefined : o.store === 'sqlite' ? `sqlite:${join(tmp, 'store.db')}` : o.store;
  if (storeSpec) {
    const store = await openStore(storeSpec, { init: true });
    try {
      await storeMonitors(store, load, progress);
      await putReactions(redis.client, ZONE, store, reactions);
    } finally {
      await store.close();
    }
  }
  // Straight into Redis as well, so the bench knows each monitor's first due; the bridge's resync keeps those slots.
  const dues = await loadMonitors(redis.client, load);
  if (!storeSpec) await putReactions(redis.client, ZONE, undefined, reactions);
  const loadSec = (Date.now() - loadStart) / 1000;
  if (storeSpec) {
    const bridge = startBridgeProcess(clusterOptions, storeSpec);
    cluster.push(bridge);
    progress(`bridge ${bridge.pid} on ${o.store === 'sqlite' ? 'SQLite' : storeSpec}; waiting for its first full resync...`);
    await Promise.race([waitForCounter(redis.client, 'bridge.resyncs', 1, 120_000), crashed]);
  }
  progress(`loaded in ${loadSec.toFixed(1)} s; warm-up ${warmup} s (excluded)`);
  await runFor(warmup, 'warm-up', crashed);
  const attached = reactions.length ? await baselineThenAttach(o, storeSpec, { ...load, reactions: reactions.map((r) => r.id) }, cluster, crashed) : undefined;
  const fix = reactions.find((r) => r.id === FIX_ID);
  const failingIds = Array.from({ length: o.monitors }, (_, i) => i).filter((i) => isFailing(i, o.failRate)).map(monitorId);
  const sampler = fix && failingIds.length ? new VerificationSampler(redis.client, ZONE, failingIds, fix.verifyEvery! * 1000) : undefined;

  // The window: lag histogram reset, counters, CPU and the target's count sampled at its start and end.
  const all = () => [...cluster, redis!.child, target];
  await redis.client.del(lagKey(ZONE), startLagKey(ZONE));
  const windowStart = Date.now();
  const c0 = await readCounters(redis.client, ZONE);
  const s0 = new Map(all().map((c) => [c.pid, sampleProc(c.pid)!]));
  const m0 = machineCpu();
  const own0 = process.cpuUsage();
  const served0 = await targetServed(target);
  const r0 = o.redisStats ? await commandStats(redis.client) : undefined;
  progress(`measuring for ${o.duration} s`);
  await runFor(o.duration, 'window', crashed, sampler && (async () => `${await sampler.sample()} failing monitors under verification`));
  const windowEnd = Date.now();
  const c1 = await readCounters(redis.client, ZONE);
  const lag = await readLag(redis.client, ZONE);
  const startLag = await readStartLag(redis.client, ZONE);
  const s1 = new Map(all().map((c) => [c.pid, sampleProc(c.pid)!]));
  const m1 = machineCpu();
  const own = process.cpuUsage(own0);
  const served1 = await targetServed(target);
  const r1 = r0 ? await commandStats(redis.client) : undefined;
  const backlog = storeSpec ? await storeBacklog(redis.client) : null;
  // Slots due at the very end of the window get GRACE_MS to be recorded before the cluster stops.
  progress(`window done; ${GRACE_MS / 1000} s for the last results, then stopping the cluster and reading the history stream`);
  await Promise.race([sleep(GRACE_MS - (Date.now() - windowEnd)), crashed]);
  await stopAll('cloudroutes', 8000);
  if (o.cpuProf) progress(`CPU profiles: ${readdirSync(o.cpuProf).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(o.cpuProf!, f)).join(', ')}`);

  const reader = new HistoryReader(windowStart, windowEnd);
  await reader.fromStream(redis.client, ZONE);
  if (storeSpec) {
    progress('reading the history the bridge wrote to the store...');
    const store = await openStore(storeSpec);
    try {
      await reader.fromStore(store, ZONE, Array.from({ length: o.monitors }, (_, i) => monitorId(i)));
    } finally {
      await store.close();
    }
  }
  const history = reader.stats;
  let expectedInWindow = 0;
  let unanswered = 0;
  // A fix's verification moves its failing monitors' slots: they are accounted by their results (reactionsReport).
  const ownSlots = (i: number) => !(sampler && isFailing(i, o.failRate));
  for (let i = 0; i < o.monitors; i++) {
    if (!ownSlots(i)) continue;
    const d0 = dues[i]!;
    expectedInWindow += slotsIn(d0, intervalMs, windowStart, windowEnd);
    for (let k = Math.max(0, Math.ceil((windowStart - d0) / intervalMs)); d0 + k * intervalMs < windowEnd; k++) {
      if (!history.answered.has(`${monitorId(i)}:${d0 + k * intervalMs}`)) unanswered++;
    }
  }

  const windowSec = (windowEnd - windowStart) / 1000;
  const counter = (name: string) => (c1[name] ?? 0) - (c0[name] ?? 0);
  const controlMissed = counter('control.missed_checks');
  const rows = procRows(all(), s0, s1);
  const ours = rows.filter((r) => r.role === 'cloudroutes');
  const achievedPerSec = history.recorded / windowSec;
  const pct = (cpuSec: number) => (100 * cpuSec) / windowSec;
  const machineBusy = m1.busySec - m0.busySec;
  const benchCpu = (own.user + own.system) / 1e6;
  const childCpu = rows.reduce((s, r) => s + r.windowCpuSec, 0);
  // Each slot due in the window: its result, or the reason counted for it (counted in the window, so a reason counted
  // just before it for a slot inside it, or the other way round, shifts a few between the two).
  const reasons = Object.fromEntries(SLOT_REASONS.map((r) => [r, counter(r)]).filter(([, n]) => n !== 0)) as Record<string, number>;
  const counted = Object.values(reasons).reduce((a, b) => a + b, 0);
  const perCheck = (cpuSec: number) => (history.recorded ? (1000 * cpuSec) / history.recorded : 0);
  const cpuByKind: Record<string, number> = {};
  for (const r of rows) {
    const kind = r.role === 'cloudroutes' ? r.name.replace(/-\d+$/, '') : r.role;
    if (kind !== 'target') cpuByKind[kind] = (cpuByKind[kind] ?? 0) + perCheck(r.windowCpuSec);
  }
  const report: Report = {
    monitors: o.monitors, intervalSec: o.interval, curve: o.curve, durationSec: o.duration, windowSec, warmupSec: warmup, workers: o.workers, sinks: o.sinks, brokers: o.brokers,
    workerConcurrency: o.concurrency ?? 'default', addresses: o.addresses, loadSec,
    expectedPerSec: o.monitors / o.interval, expectedInWindow,
    achievedPerSec, recordedInWindow: history.recorded, sinkCounterInWindow: counter('sink.results_recorded'),
    lagP50Ms: lag.quantile(0.5), lagP99Ms: lag.quantile(0.99), lagMaxMs: lag.max, lagSamples: lag.count,
    startLagP50Ms: startLag.quantile(0.5), startLagP99Ms: startLag.quantile(0.99), startLagMaxMs: startLag.max, expiredJobs: counter('broker.jobs_expired'), queueFullJobs: counter('broker.jobs_dropped_queue_full'),
    resultLatencyP50Ms: history.dueToSink.quantile(0.5), resultLatencyP99Ms: history.dueToSink.quantile(0.99), resultLatencyMaxMs: history.dueToSink.max(),
    checkedLatencyP50Ms: history.dueToChecked.quantile(0.5), checkedLatencyP99Ms: history.dueToChecked.quantile(0.99),
    slots: { due: expectedInWindow, recorded: expectedInWindow - unanswered, reasons, unaccounted: Math.max(0, unanswered - counted) },
    cpuMsPerCheckByKind: cpuByKind,
    store: storeSpec ? { spec: o.store, historyWrittenInWindow: counter('bridge.history_written'), ...backlog! } : null,
    redisCommands: r0 && r1 ? topPerCheck(r0, r1, history.recorded) : null,
    missed: controlMissed + unanswered, controlMissedSlots: controlMissed, unanswered, graceMs: GRACE_MS,
    statuses: history.statuses, problems: Object.fromEntries(history.problems),
    targetServedInWindow: Number.isFinite(served1.served - served0.served) ? served1.served - served0.served : null,
    targetConnectionsInWindow: Number.isFinite(served1.connections - served0.connections) ? served1.connections - served0.connections : null,
    cpus: m1.cpus, machineBusyPct: pct(machineBusy), benchCpuPct: pct(benchCpu), otherCpuPct: pct(Math.max(0, machineBusy - childCpu - benchCpu)),
    rawPerSec: raw ? raw.perSec : null, rawErrors: raw ? raw.errors : null,
    rawCpuMsPerRequest: raw && raw.requests ? (1000 * raw.cpuSec) / raw.requests : null,
    ratio: raw && raw.perSec > 0 ? achievedPerSec / raw.perSec : null,
    cpuMsPerCheck: history.recorded ? (1000 * ours.reduce((s, r) => s + r.windowCpuSec, 0)) / history.recorded : 0,
    processes: rows,
    rssTotalMb: ours.reduce((s, r) => s + r.peakRssMb, 0),
    rssTotalNowMb: ours.reduce((s, r) => s + r.rssMb, 0),
    redisPeakRssMb: rows.find((r) => r.role === 'redis')?.peakRssMb ?? 0,
    targetPeakRssMb: rows.find((r) => r.role === 'target')?.peakRssMb ?? 0,
  };
  if (o.keepLogs) {
    const keep = mkdtempSync(join(tmpdir(), 'cr-bench-logs-'));
    for (const f of readdirSync(tmp).filter((n) => n.endsWith('.log'))) copyFileSync(join(tmp, f), join(keep, f));
    progress(`logs kept in ${keep}`);
  }
  const reactionsReport = attached ? reactionsFigures(o, reactions, attached, { c0, c1, rows, windowSec, sampler, failingIds, perMonitor: history.perMonitor, achievedPerSec }) : null;
  await run.stop();
  process.stdout.write(formatReport(report) + '\n');
  if (reactionsReport) process.stdout.write(reactionLines(reactionsReport).map(([label, text]) => `  ${label.padEnd(17)}${text}`).join('\n') + '\n');
  if (o.json) process.stdout.write(JSON.stringify({ ...report, reactions: reactionsReport }) + '\n');
}

await runBench<Options>(program, progress, main);

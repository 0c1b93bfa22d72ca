/** `cloudroutes status`, `check`, `stats` and `modules`. */
import type { Command } from 'commander';
import { backlogWarnings, readBacklog, storeDownMessage } from '../core/backlog.js';
import type { Histogram } from '../core/histogram.js';
import { keys, lagKey, startLagKey } from '../core/keys.js';
import { formatDuration } from '../core/duration.js';
import { readProcesses } from '../core/processes.js';
import { readLagHash } from '../core/lag-recorder.js';
import { createLogger } from '../core/logger.js';
import { fieldProblems } from '../core/schema.js';
import { describeModules } from '../core/plugins.js';
import { errors } from '../core/errors.js';
import type { JobMessage } from '../core/messages.js';
import { runCheck } from '../worker/run-check.js';
import { COMMANDS_ALLOWED } from '../core/command-policy.js';
import { monitorsInRedis, statusRows, storeOutageNote } from '../manage/state.js';
import type { Monitor, Status } from '../core/types.js';
import type { CliContext } from './context.js';
import { parseJsonOption, printJson, printTable, intOption } from './output.js';
import { localKnownHosts, useKnownHosts } from '../core/ssh-known-hosts.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers status, check, stats and modules. */
export function statusCommands(program: Command, run: Run): void {
  program
    .command('status')
    .description('one row per monitor: status, consecutive fail count, last check and latency')
    .option('--json', 'print a JSON array of {id, name, ctype, status, failcount, lastCheck, latencyMs}')
    .action((o) =>
      run(async (ctx) => {
        const redis = await ctx.redis();
        let monitors: Monitor[];
        try {
          monitors = await (await ctx.store()).listMonitors();
        } catch (err) {
          console.error(`warning: ${(err as Error).message}; showing the monitors this zone's Redis runs`);
          monitors = await monitorsInRedis(redis, ctx.settings.zone);
        }
        const note = await storeOutageNote(redis, ctx.settings.zone);
        if (note) console.error(`note: ${note}`);
        const rows = await statusRows(redis, ctx.settings.zone, monitors);
        if (o.json) return printJson(rows);
        printTable(['ID', 'NAME', 'CTYPE', 'STATUS', 'FAILCOUNT', 'LAST CHECK', 'LATENCY'],
          rows.map((r) => [r.id, r.name, r.ctype, r.status, r.failcount, r.lastCheck, r.latencyMs === null ? null : `${r.latencyMs} ms`]));
      }),
    );

  program
    .command('check <ctype>')
    .description('run one check here and print its result (for plug-in authors; checks that run commands run too: no --allow-commands needed); exit status 0 healthy, 1 failed, 3 unknown')
    .option('--data <json>', "the check's data as JSON", '{}')
    .option('--timeout <ms>', 'deadline for the check', intOption('--timeout', 1), 10_000)
    .option('--json', 'print the result as JSON')
    .action((ctype: string, o) =>
      run(async (ctx) => {
        const data = parseJsonOption(o.data, '--data') as Record<string, unknown>;
        const problems = fieldProblems((await ctx.checks.load(ctype)).meta.fields, data);
        if (problems.length) throw errors.badData(`check "${ctype}"`, problems);
        const now = Date.now();
        useKnownHosts(localKnownHosts(ctx.settings.dataDir));
        // The worker's own path: the same deadline, the hard cut-off of a check that ignores it, and thrown errors as unknown.
        const job: JobMessage = { v: 1, type: 'job', monitorId: 'cli', name: 'cli', ctype, data, timeoutMs: o.timeout, zone: ctx.settings.zone, due: now, sent: now };
        // Run by a person on their own machine: a check that runs commands runs here without --allow-commands.
        const out = await runCheck(job, ctx.checks, undefined, createLogger(`check:${ctype}`), async () => null, COMMANDS_ALLOWED);
        process.exitCode = CHECK_EXIT[out.status];
        if (o.json) return printJson(out);
        console.log(`${out.status}${out.message ? `: ${out.message}` : ''} (${out.latencyMs} ms)`);
        if (out.metrics) for (const [k, v] of Object.entries(out.metrics)) console.log(`  ${k} ${v}`);
      }),
    );

  program
    .command('stats')
    .description("the zone's counters (checks, reactions, bad messages dropped), schedule lag, the backlog waiting for the store of record, and processes whose heartbeat stopped")
    .option('--json', 'print one JSON object')
    .action((o) =>
      run(async (ctx) => {
        const redis = await ctx.redis();
        const counters = await redis.hgetall(keys(ctx.settings.zone).counters);
        const lag = await readLagHash(redis, lagKey(ctx.settings.zone));
        const startLag = await readLagHash(redis, startLagKey(ctx.settings.zone));
        const schedule = await redis.zcard(keys(ctx.settings.zone).schedule);
        const gone = (await readProcesses(redis, ctx.settings.zone)).processes.filter((p) => p.state === 'gone');
        const backlog = await readBacklog(redis, ctx.settings.zone, ctx.settings.backlogMax);
        const out = {
          zone: ctx.settings.zone, scheduled: schedule, backlog, warnings: backlogWarnings(backlog),
          gone: gone.map((p) => ({ kind: p.kind, id: p.id, host: p.host, pid: p.pid, lastSeen: p.lastSeen, ageMs: p.ageMs })),
          counters: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)]).sort()),
          lag: summary(lag),
          startLag: summary(startLag),
        };
        if (o.json) return printJson(out);
        console.log(`zone ${out.zone}: ${schedule} monitors scheduled`);
        console.log(`schedule lag (due to sent by a control): ${lagLine(out.lag)}`);
        console.log(`start lag (due to started by a worker, queues included): ${lagLine(out.startLag)}`);
        if (gone.length) {
          console.log(`gone: ${gone.map((p) => `${p.kind} ${p.host} pid ${p.pid} (no heartbeat for ${formatDuration(Math.round(p.ageMs / 1000))})`).join(', ')}; "cloudroutes cluster" lists the zone's processes`);
        }
        const cap = backlog.cap > 0 ? `of at most ${backlog.cap.toLocaleString('en-US')} (CLOUDROUTES_BACKLOG_MAX)` : '(no CLOUDROUTES_BACKLOG_MAX)';
        console.log(`backlog waiting for the store of record: ${backlog.history.waiting} results ${cap}, ${backlog.events.waiting} events`);
        const down = storeDownMessage(backlog);
        if (down) console.log(`warning: ${down}`);
        for (const w of out.warnings) console.log(`warning: ${w}`);
        const dead = backlog.history.deadLetters + backlog.events.deadLetters;
        const deadHint = dead > 0 ? ' ("cloudroutes backlog list" shows them, "cloudroutes backlog retry" writes them again)' : '';
        console.log(`dead letters (records the store of record refused): ${backlog.history.deadLetters} results, ${backlog.events.deadLetters} events${deadHint}`);
        const trimmed = out.counters['bridge.history_trimmed'] ?? 0;
        if (trimmed > 0) console.log(`${trimmed} results were trimmed from history unstored past CLOUDROUTES_BACKLOG_MAX`);
        const expired = out.counters['broker.jobs_expired'] ?? 0;
        const full = out.counters['broker.jobs_dropped_queue_full'] ?? 0;
        if (expired + full > 0) {
          console.log(`the broker dropped ${expired} jobs that waited longer than their interval and ${full} that did not fit its queue: add workers or raise --concurrency`);
        }
        const refused = out.counters['broker.auth_refused'] ?? 0;
        if (refused > 0) console.log(`the broker refused ${refused} connections (a CURVE key not in its allowed clients file, or no CURVE): its log names each address and key`);
        printTable(['COUNTER', 'VALUE'], Object.entries(out.counters));
      }),
    );

  program
    .command('modules')
    .description('list installed check and reaction modules with their schemas (a reaction with its kind, fix or notify)')
    .option('--json', 'print {checks: [...], reactions: [...]} with each schema')
    .action((o) =>
      run(async (ctx) => {
        const out = { checks: await describeModules(ctx.checks), reactions: await describeModules(ctx.actions) };
        if (o.json) return printJson(out);
        for (const [heading, mods] of [['Checks', out.checks], ['Reactions', out.reactions]] as const) {
          console.log(`${heading}:`);
          for (const m of mods) {
            if ('error' in m) {
              console.log(`  ${m.name.padEnd(24)} BROKEN: ${m.error}`);
              continue;
            }
            const note = m.runsCommands ? ' (runs commands: needs --allow-commands)' : '';
            console.log(`  ${m.name.padEnd(24)} ${m.kind ? `${m.kind.padEnd(7)} ` : ''}${m.title}${note}`);
          }
        }
      }),
    );
}

const summary = (h: Histogram) => ({ count: h.count, p50Ms: h.quantile(0.5), p99Ms: h.quantile(0.99), maxMs: h.max });
const lagLine = (l: ReturnType<typeof summary>) => `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms over ${l.count} jobs`;

/** `cloudroutes check`'s exit status by result, so a script can act on it (2 stays bad usage). */
export const CHECK_EXIT: Record<Status, number> = { healthy: 0, failed: 1, unknown: 3 };

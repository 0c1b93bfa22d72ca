/** `cloudroutes monitor test` and `cloudroutes reaction test`: a check or a reaction run now by the zone's processes (src/manage/try-runs.ts). */
import type { Command } from 'commander';
import { errors } from '../core/errors.js';
import { localClientCurveSettings } from '../core/local-curve.js';
import { clientCurve } from '../core/socket-options.js';
import { testMonitor, testReaction, type TryDeps } from '../manage/try-runs.js';
import type { CliContext } from './context.js';
import { envInt, printJson } from './output.js';
import { CHECK_EXIT } from './status-commands.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

async function deps(ctx: CliContext): Promise<TryDeps> {
  return { redis: await ctx.redis(), store: await ctx.store(), settings: ctx.settings, curve: clientCurve(localClientCurveSettings(ctx.settings.dataDir)) };
}

const sub = (program: Command, name: string) => program.commands.find((c) => c.name() === name)!;

/** Adds `test` to the monitor and reaction commands. */
export function tryCommands(program: Command, run: Run): void {
  sub(program, 'monitor')
    .command('test <id>')
    .description("run the monitor's check now through a broker and a worker of this zone and print the result; nothing is recorded unless --record (exit status 0 healthy, 1 failed, 3 unknown)")
    .option('--record', 'record the result as any result of the zone: its state, its history, and its reactions act on it')
    .option('--json', 'print {monitorId, zone, status, message, latencyMs, metrics, due, checkedAt, worker, recorded}')
    .action((id: string, o) =>
      run(async (ctx) => {
        const { v: _, type: __, test, ...r } = await testMonitor(await deps(ctx), id, o.record === true);
        process.exitCode = CHECK_EXIT[r.status];
        if (o.json) return printJson({ ...r, test });
        console.log(`${r.status}${r.message ? `: ${r.message}` : ''} (${r.latencyMs ?? '-'} ms)`);
        console.log(`  worker ${r.worker}, zone ${r.zone}; ${r.recorded ? 'recorded as a result of the zone' : 'not recorded'}`);
        if (r.metrics) for (const [k, v] of Object.entries(r.metrics)) console.log(`  ${k} ${v}`);
      }),
    );

  sub(program, 'reaction')
    .command('test <id>')
    .description("run the reaction now in a sink of this zone for a synthetic event of the monitor (for real; a dry-run reaction acts on nothing and says what it would have done); recorded in the audit as test (exit status 1 when it failed)")
    .requiredOption('--monitor <id>', 'a monitor that uses the reaction: the event is of this monitor')
    .option('--status <status>', 'status of the synthetic event: failed or healthy', 'failed')
    .option('--json', 'print {outcome, message, tookMs, sink, reactionId, monitorId}')
    .action((id: string, o) =>
      run(async (ctx) => {
        if (o.status !== 'failed' && o.status !== 'healthy') throw errors.badSetting('status', String(o.status).slice(0, 40), 'failed or healthy');
        const timeout = envInt('CLOUDROUTES_REACTION_TIMEOUT_MS', 30_000, 1);
        const { v: _, type: __, ...r } = await testReaction(await deps(ctx), id, o.monitor, o.status, 'cli', timeout);
        if (r.outcome === 'failed') process.exitCode = 1;
        if (o.json) return printJson(r);
        console.log(`${r.outcome}${r.message ? `: ${r.message}` : ''} (${r.tookMs} ms, sink ${r.sink})`);
      }),
    );
}

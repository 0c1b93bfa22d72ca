/** `cloudroutes react <rtype>`: run one reaction here for a sample event, as the sink would (for plug-in authors). */
import type { Command } from 'commander';
import { errors } from '../core/errors.js';
import { localKnownHosts, useKnownHosts } from '../core/ssh-known-hosts.js';
import type { Status } from '../core/types.js';
import { runReaction } from '../testing/index.js';
import type { CliContext } from './context.js';
import { parseJsonOption, printJson, intOption } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers react. */
export function reactCommand(program: Command, run: Run): void {
  program
    .command('react <rtype>')
    .description('run one reaction here for a sample event and print its outcome (for plug-in authors: it really acts, reactions that run commands too: no --allow-commands needed); exit status 0 ran or skipped, 1 failed')
    .option('--data <json>', "the reaction's data as JSON", '{}')
    .option('--status <status>', 'status of the sample event: failed or healthy', 'failed')
    .option('--monitor <name>', 'name of the sample monitor', 'test monitor')
    .option('--message <text>', "the sample check result's message")
    .option('--timeout <ms>', 'deadline for the reaction', intOption('--timeout', 1), 30_000)
    .option('--json', 'print {outcome, message, durationMs, logs} as JSON')
    .action((rtype: string, o) =>
      run(async (ctx) => {
        const data = parseJsonOption(o.data, '--data');
        if (o.status !== 'failed' && o.status !== 'healthy') throw errors.badSetting('status', o.status, 'failed or healthy');
        useKnownHosts(localKnownHosts(ctx.settings.dataDir));
        const r = await runReaction(rtype, data, {
          status: o.status as Status, monitor: { name: o.monitor }, zone: ctx.settings.zone, ...(o.message !== undefined ? { message: o.message } : {}),
        }, { timeoutMs: o.timeout });
        if (r.outcome === 'failed') process.exitCode = 1;
        if (o.json) return printJson({ outcome: r.outcome, message: r.message, durationMs: r.durationMs, logs: r.logs });
        console.log(`${r.outcome}${r.message ? `: ${r.message}` : ''} (${r.durationMs} ms)`);
        for (const { level, msg, time, ...fields } of r.logs) {
          console.log(`  ${level} ${msg ?? ''} ${JSON.stringify(fields)}`);
        }
      }),
    );
}

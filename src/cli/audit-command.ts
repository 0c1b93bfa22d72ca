/** `cloudroutes audit`: what the sinks decided for each reaction, and why. */
import type { Command } from 'commander';
import { auditPage, parseDecisions, parseSince } from '../manage/audit.js';
import type { CliContext } from './context.js';
import { intOption, isoTime, printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function auditCommand(program: Command, run: Run): void {
  program
    .command('audit')
    .description('every decision taken for a reaction (ran, failed, skipped, held), newest first, with its reason and the result that led to it')
    .option('--monitor <id>', "only this monitor's decisions")
    .option('--reaction <id>', "only this reaction's decisions")
    .option('--since <when>', 'only decisions since: a duration back from now (30m, 1h, 7d) or an ISO time')
    .option('--decision <d>', 'only these decisions: ran, failed, skipped, held (repeat or separate with commas)', collect)
    .option('--limit <n>', 'most entries to show', intOption('--limit', 1, 10_000), 100)
    .option('--before <ms>', 'the page before this time (epoch ms, as the last run printed for "next")', intOption('--before', 0))
    .option('--json', 'print {"entries": [...], "next": ms | null}')
    .addHelpText('after', '\nExamples:\n  cloudroutes audit --monitor m-abc --since 2h\n  cloudroutes audit --decision held,failed --json')
    .action((o) =>
      run(async (ctx) => {
        const page = await auditPage(await ctx.store(), {
          monitorId: o.monitor, reactionId: o.reaction, decisions: parseDecisions(o.decision),
          since: o.since === undefined ? undefined : parseSince(o.since), before: o.before, limit: o.limit,
        });
        if (o.json) return printJson(page);
        printTable(['TIME', 'DECISION', 'REASON', 'MONITOR', 'REACTION', 'ZONE', 'EPISODE', 'MESSAGE'],
          page.entries.map((e) => [isoTime(e.at), e.outcome, e.reason, e.monitorId, e.reactionId, e.zone, e.episode, e.message]));
        if (page.next !== null) console.log(`(more: --before ${page.next})`);
      }),
    );
}

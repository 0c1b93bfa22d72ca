/** `cloudroutes backlog list | retry | drop`: the records the store of record refused, which the bridge set aside. */
import type { Command } from 'commander';
import { countDeadLetters, dropDeadLetters, listDeadLetters, retryDeadLetters } from '../bridge/dead-letters.js';
import { errors } from '../core/errors.js';
import type { CliContext } from './context.js';
import { isoTime, printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers the backlog commands. */
export function backlogCommands(program: Command, run: Run): void {
  const backlog = program.command('backlog').description('history and events the store of record refused (dead letters), set aside by the bridge so the rest goes on');

  backlog
    .command('list')
    .description('one row per dead letter: stream, entry id, monitor, when and why the store refused it')
    .option('--json', 'print a JSON array of {stream, id, entryId, monitorId, failedAt, error, fields}')
    .action((o) =>
      run(async (ctx) => {
        const letters = await listDeadLetters(await ctx.redis(), ctx.settings.zone);
        if (o.json) return printJson(letters);
        printTable(['STREAM', 'ENTRY', 'MONITOR', 'FAILED AT', 'ERROR'], letters.map((l) => [l.stream, l.entryId, l.monitorId, isoTime(l.failedAt), l.error]));
      }),
    );

  backlog
    .command('retry')
    .description('write every dead letter to the store of record again; those it takes leave the list, those it refuses again stay with the new error (exit status 1 then)')
    .option('--json', 'print {stored, failed: [{stream, entryId, monitorId, error}]}')
    .action((o) =>
      run(async (ctx) => {
        const report = await retryDeadLetters(await ctx.redis(), await ctx.store(), ctx.settings.zone);
        if (report.failed.length) process.exitCode = 1;
        if (o.json) return printJson(report);
        console.log(`${report.stored} stored, ${report.failed.length} refused again`);
        for (const f of report.failed) console.log(`  ${f.stream} ${f.entryId} (monitor ${f.monitorId || '-'}): ${f.error}`);
      }),
    );

  backlog
    .command('drop')
    .description('delete every dead letter; they never reach the store of record')
    .option('--yes', 'confirm the deletion')
    .action((o: { yes?: boolean }) =>
      run(async (ctx) => {
        const redis = await ctx.redis();
        if (!o.yes) {
          const { history, events } = await countDeadLetters(redis, ctx.settings.zone);
          const count = history + events;
          throw errors.confirmNeeded(`backlog drop would delete ${count} dead letter(s) of zone "${ctx.settings.zone}"`);
        }
        console.log(`${await dropDeadLetters(redis, ctx.settings.zone)} dead letter(s) deleted`);
      }),
    );
}

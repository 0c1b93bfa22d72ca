/** `cloudroutes export` and `cloudroutes apply FILE`: the whole configuration as one YAML or JSON document. */
import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { errors } from '../core/errors.js';
import { applyDocument, exportDocument, parseDocument, renderDocument, type ApplyReport } from '../manage/config-io.js';
import type { CliContext } from './context.js';
import { printJson } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

const VERBS = { created: ['created', 'would create'], updated: ['updated', 'would update'], removed: ['removed', 'would remove'] } as const;

/** One line per change, then the counts. */
function printReport(report: ApplyReport): void {
  for (const key of ['created', 'updated', 'removed'] as const) {
    for (const r of report[key]) console.log(`${VERBS[key][report.dryRun ? 1 : 0]} ${r.kind} ${r.id} (${r.name})`);
  }
  const counts = `${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged, ${report.removed.length} removed`;
  console.log(report.dryRun ? `dry run, nothing was changed: ${counts}` : counts);
}

/** Registers export and apply. */
export function configIoCommands(program: Command, run: Run): void {
  program
    .command('export')
    .description('print the whole configuration (reactions and monitors with their ids) as one document; secret values stay encrypted')
    .addOption(new Option('--format <format>', 'document format').choices(['yaml', 'json']).default('yaml'))
    .option('--out <file>', 'write it to this file instead')
    .action((o) =>
      run(async (ctx) => {
        const doc = await exportDocument(await ctx.store());
        const text = renderDocument(doc, o.format);
        if (!o.out) return void process.stdout.write(text);
        writeFileSync(o.out, text);
        console.error(`wrote ${doc.reactions.length} reactions and ${doc.monitors.length} monitors to ${o.out}`);
      }),
    );

  program
    .command('apply <file>')
    .description('make the configuration what a document says: create what is missing, update what differs, leave the rest; nothing changes when any item is invalid')
    .option('--prune', 'also remove the monitors and reactions the document does not list')
    .option('--dry-run', 'only print what it would do')
    .option('--json', 'print {dryRun, created, updated, unchanged, removed}')
    .addHelpText('after', '\nFILE is YAML or JSON, as "cloudroutes export" writes it ("-" reads standard input).\nExample:\n  cloudroutes export --out cloudroutes.yaml && cloudroutes apply cloudroutes.yaml --dry-run')
    .action((file: string, o) =>
      run(async (ctx) => {
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          throw errors.badSetting('FILE', file, `it cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
        const report = await applyDocument(await ctx.config(), await ctx.store(), parseDocument(text), { prune: o.prune === true, dryRun: o.dryRun === true });
        if (o.json) printJson(report);
        else printReport(report);
      }),
    );
}

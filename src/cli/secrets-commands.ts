/** `cloudroutes secrets rewrap`: every stored secret rewritten as enc:v2 under the current key (and key rotation). */
import type { Command } from 'commander';
import { readKeyFile } from '../core/crypto.js';
import { errors } from '../core/errors.js';
import { rewrapSecrets, type Rewrapped } from '../manage/rewrap.js';
import type { CliContext } from './context.js';
import { printJson } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers secrets rewrap. */
export function secretsCommands(program: Command, run: Run): void {
  const secrets = program.command('secrets').description("the monitors' and reactions' encrypted secrets");
  secrets
    .command('rewrap')
    .description('rewrite every stored secret as enc:v2 under CLOUDROUTES_SECRET_KEY, bound to its record, field and destination; safe to run again')
    .option('--old-key-file <file>', 'the key the secrets were encrypted with (64 hex characters), to rotate to the current CLOUDROUTES_SECRET_KEY')
    .option('--dry-run', 'only report what would be rewritten')
    .option('--json', 'print {dryRun, rewrapped: [{kind, id, name, fields}], skipped: [the same, for records edited meanwhile], unchanged}')
    .addHelpText('after', '\nKey rotation:\n  mv data/secret.key old.key && openssl rand -hex 32 > data/secret.key\n  cloudroutes secrets rewrap --old-key-file old.key')
    .action((o: { oldKeyFile?: string; dryRun?: boolean; json?: boolean }) =>
      run(async (ctx) => {
        const key = ctx.secretKey;
        if (!key) throw errors.secretKey('is not set (nor data/secret.key), and rewrap encrypts with it');
        const oldKey = o.oldKeyFile === undefined ? undefined : readKeyFile(o.oldKeyFile, '--old-key-file');
        if (oldKey?.equals(key)) throw errors.badSetting('--old-key-file', o.oldKeyFile!, 'the key the secrets were encrypted with, not the current CLOUDROUTES_SECRET_KEY');
        const report = await rewrapSecrets(await ctx.store(), ctx.checks, ctx.actions, key, { oldKey, dryRun: o.dryRun });
        if (o.json) return printJson(report);
        const verb = report.dryRun ? 'would rewrite' : 'rewrote';
        const count = report.rewrapped.reduce((n, r) => n + r.fields.length, 0);
        const line = (r: Rewrapped) => console.log(`  ${r.kind} ${r.id}  ${r.name}  ${r.fields.join(', ')}`);
        if (!report.rewrapped.length && !report.skipped.length) return console.log(`nothing to rewrap: the secrets of all ${report.unchanged} monitors and reactions are enc:v2 under the current key`);
        console.log(`${verb} ${count} secret${count === 1 ? '' : 's'} in ${report.rewrapped.length} record${report.rewrapped.length === 1 ? '' : 's'} (${report.unchanged} unchanged):`);
        report.rewrapped.forEach(line);
        if (!report.skipped.length) return;
        console.log(`skipped ${report.skipped.length} record${report.skipped.length === 1 ? '' : 's'} changed or removed meanwhile (left as that edit wrote them; run rewrap again):`);
        report.skipped.forEach(line);
      }),
    );
}

/** `cloudroutes apikey create | list | rm`. */
import type { Command } from 'commander';
import { errors } from '../core/errors.js';
import { createApiKey } from '../web/api-keys.js';
import type { CliContext } from './context.js';
import { isoTime, printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers the API key commands. */
export function apikeyCommands(program: Command, run: Run): void {
  const apikey = program.command('apikey').description('API keys for the web API and dashboard');
  apikey
    .command('create')
    .description('create an API key and print it once (only a hash is stored)')
    .requiredOption('--name <name>', 'who or what uses it')
    .option('--read-only', 'it can read but not change anything')
    .option('--json', 'print {"key": ..., "id": ...}')
    .action((o) =>
      run(async (ctx) => {
        if (!String(o.name).trim()) throw errors.badSetting('apikey name', o.name, 'give a non-empty --name');
        const { record, key } = await createApiKey(await ctx.store(), String(o.name).trim(), o.readOnly === true);
        if (o.json) return printJson({ key, id: record.id, name: record.name, readOnly: record.readOnly });
        console.log(key);
        console.error(`API key ${record.id} (${record.name}${record.readOnly ? ', read-only' : ''}) created; it is shown only now: keep it`);
      }),
    );
  apikey
    .command('list')
    .description('list API keys (never the keys themselves)')
    .option('--json', 'print a JSON array')
    .action((o) =>
      run(async (ctx) => {
        const keys = (await (await ctx.store()).listApiKeys()).map(({ hash: _hash, ...k }) => k);
        if (o.json) return printJson(keys);
        printTable(['ID', 'NAME', 'ACCESS', 'CREATED'], keys.map((k) => [k.id, k.name, k.readOnly ? 'read-only' : 'read-write', isoTime(k.createdAt)]));
      }),
    );
  apikey
    .command('rm <id>')
    .description('revoke an API key')
    .action((id: string) =>
      run(async (ctx) => {
        if (!(await (await ctx.store()).deleteApiKey(id))) throw errors.badSetting('apikey id', id, 'no such API key; see "cloudroutes apikey list"');
        console.log(`removed ${id}`);
      }),
    );
}

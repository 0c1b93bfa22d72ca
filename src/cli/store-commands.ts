/** `cloudroutes rebuild-redis`: a full rebuild of the zone's Redis configuration from the store of record. */
import type { Command } from 'commander';
import { Counters } from '../core/counters.js';
import { keys } from '../core/keys.js';
import { ConfigSync } from '../bridge/config-sync.js';
import type { CliContext } from './context.js';
import { printJson } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers rebuild-redis. */
export function storeCommands(program: Command, run: Run): void {
  program
    .command('rebuild-redis')
    .description("rewrite this zone's monitors and reactions in Redis from the store of record and drop what the store no longer has (slots of unchanged monitors are kept)")
    .option('--json', 'print {monitors, reactions}')
    .action((o) =>
      run(async (ctx) => {
        const store = await ctx.store();
        const redis = await ctx.redis();
        const counters = new Counters(redis, keys(ctx.settings.zone).counters, 'cli');
        await new ConfigSync(redis, store, ctx.settings.zone, ctx.logger, counters).syncNow();
        const out = { monitors: (await store.listMonitors()).length, reactions: (await store.listReactions()).length };
        if (o.json) return printJson(out);
        console.log(`rebuilt zone ${ctx.settings.zone} in ${ctx.settings.redisUrl}: ${out.monitors} monitors, ${out.reactions} reactions`);
      }),
    );
}

/** `cloudroutes store init | check` and `cloudroutes rebuild-redis`. */
import type { Command } from 'commander';
import { Counters } from '../core/counters.js';
import { keys } from '../core/keys.js';
import { ConfigSync } from '../bridge/config-sync.js';
import type { CliContext } from './context.js';
import { printJson } from './output.js';
import { openStore } from '../store/open.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers store init, store check and rebuild-redis. */
export function storeCommands(program: Command, run: Run): void {
  const store = program.command('store').description('the store of record (CLOUDROUTES_STORE)');
  const verbs = [
    ['init', true, 'create the database, tables and indexes CloudRoutes needs; safe to run again'],
    ['check', false, 'check that the store is reachable and has what CloudRoutes needs'],
  ] as const;
  for (const [verb, init, description] of verbs) {
    store
      .command(verb)
      .description(description)
      .option('--json', 'print {"store": ..., "ready": true}')
      .action((o) =>
        run(async (ctx) => {
          const s = await openStore(ctx.settings.store, { init, logger: ctx.logger });
          await s.close();
          if (o.json) return printJson({ store: redact(ctx.settings.store), ready: true });
          console.log(`store ${redact(ctx.settings.store)} is ready`);
        }),
      );
  }

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

/** The store setting without its password. */
function redact(spec: string): string {
  return spec.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** `cloudroutes store init | check` and `cloudroutes rebuild-redis`. */
import type { Command } from 'commander';
import { Counters } from '../core/counters.js';
import { keys } from '../core/keys.js';
import { redactRedisUrl } from '../core/redis.js';
import { ConfigSync } from '../bridge/config-sync.js';
import type { CliContext } from './context.js';
import { errors } from '../core/errors.js';
import { intOption, printJson, printTable } from './output.js';
import { openStore } from '../store/open.js';
import { RethinkStore } from '../store/rethinkdb.js';
import { describeLayout, type SchemaReport } from '../store/rethinkdb-schema.js';
import { parseRethinkUrl } from '../store/rethinkdb-url.js';
import type { Store } from '../store/store.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Registers store init, store check and rebuild-redis. */
export function storeCommands(program: Command, run: Run): void {
  const store = program.command('store').description('the store of record (CLOUDROUTES_STORE)');
  store
    .command('init')
    .description('create the database, tables and indexes CloudRoutes needs; safe to run again')
    .option('--replicas <n>', 'RethinkDB: copies of every table (new tables are created with it, existing ones reconfigured to it)', intOption('--replicas', 1, 64))
    .option('--shards <n>', 'RethinkDB: shards of every table, likewise (default: 1 for new tables, unchanged for existing ones)', intOption('--shards', 1, 64))
    .option('--json', 'print {"store": ..., "ready": true, "created": [...], "reconfigured": [...], "tables": [...]}')
    .action((o: { replicas?: number; shards?: number; json?: boolean }) =>
      run(async (ctx) => {
        const layout = { ...(o.replicas === undefined ? {} : { replicas: o.replicas }), ...(o.shards === undefined ? {} : { shards: o.shards }) };
        const spec = ctx.settings.store;
        if (!spec.startsWith('rethinkdb://')) {
          if (Object.keys(layout).length) {
            throw errors.badSetting(o.replicas === undefined ? '--shards' : '--replicas', String(o.replicas ?? o.shards), `replicas and shards are for a RethinkDB store; CLOUDROUTES_STORE is ${redact(spec)}`);
          }
          return ready(ctx, await openStore(spec, { init: true, logger: ctx.logger }), o.json);
        }
        const s = await connectRethink(ctx);
        let changes: SchemaReport;
        try {
          changes = await s.setup(layout);
        } catch (err) {
          await s.close();
          throw err;
        }
        return ready(ctx, s, o.json, changes);
      }),
    );
  store
    .command('check')
    .description("check that the store is reachable and has what CloudRoutes needs (RethinkDB: also each table's replicas and shards)")
    .option('--json', 'print {"store": ..., "ready": true, "tables": [{"table", "replicas", "shards"}]}')
    .action((o: { json?: boolean }) =>
      run(async (ctx) => ready(ctx, await openStore(ctx.settings.store, { logger: ctx.logger }), o.json)),
    );

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
        console.log(`rebuilt zone ${ctx.settings.zone} in ${redactRedisUrl(ctx.settings.redisUrl)}: ${out.monitors} monitors, ${out.reactions} reactions`);
      }),
    );
}

/** Closes the store and says it is ready, with each table's layout on RethinkDB; `changes` is what store init did there. */
async function ready(ctx: CliContext, s: Store, json: boolean | undefined, changes?: SchemaReport): Promise<void> {
  try {
    const tables = s instanceof RethinkStore ? await s.layouts() : undefined;
    const where = redact(ctx.settings.store);
    if (json) return printJson({ store: where, ready: true, ...changes, ...(tables ? { tables } : {}) });
    for (const c of changes?.created ?? []) console.log(`created ${c}`);
    for (const c of changes?.reconfigured ?? []) console.log(`reconfigured table ${c.table}: ${describeLayout(c.from)} -> ${describeLayout(c.to)}`);
    console.log(`store ${where} is ready`);
    if (tables) printTable(['TABLE', 'REPLICAS', 'SHARDS'], tables.map((t) => [t.table, t.replicas, t.shards]));
  } finally {
    await s.close();
  }
}

/** Connects to the RethinkDB store without checking its schema (store init creates it). */
async function connectRethink(ctx: CliContext): Promise<RethinkStore> {
  const s = new RethinkStore(parseRethinkUrl(ctx.settings.store), { logger: ctx.logger });
  await s.connect();
  return s;
}

/** The store setting without its password. */
function redact(spec: string): string {
  return spec.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

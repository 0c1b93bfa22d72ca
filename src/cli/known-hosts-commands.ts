/** `cloudroutes known-hosts list | forget`: the SSH host keys recorded on first use. */
import type { Command } from 'commander';
import { errors } from '../core/errors.js';
import { knownHostName, localKnownHosts, RedisKnownHosts, type KnownHosts } from '../core/ssh-known-hosts.js';
import type { CliContext } from './context.js';
import { printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** The zone's keys (its Redis), or with --local those of `cloudroutes check` (the data dir's file). */
async function storeOf(ctx: CliContext, local: boolean | undefined): Promise<KnownHosts> {
  return local ? localKnownHosts(ctx.settings.dataDir) : new RedisKnownHosts(await ctx.redis(), ctx.settings.zone);
}

/** Registers the known-hosts commands. */
export function knownHostsCommands(program: Command, run: Run): void {
  const kh = program.command('known-hosts').description('SSH host keys recorded on first use by SSH checks and ssh-command without data.ssh.hostKey');
  kh.command('list')
    .description("the recorded keys, host:port and SHA256 fingerprint (the zone's, from its Redis)")
    .option('--local', 'those `cloudroutes check` recorded in the data dir instead')
    .option('--json', 'print one JSON object')
    .action((o) =>
      run(async (ctx) => {
        const all = await (await storeOf(ctx, o.local)).list();
        if (o.json) return printJson(all);
        printTable(['HOST', 'FINGERPRINT'], Object.entries(all).sort().map(([h, f]) => [h, f]));
      }),
    );
  kh.command('forget <host:port>')
    .description('forget the key recorded for host:port, so the next connection records the key it meets (after a machine was reinstalled)')
    .option('--local', 'in the data dir file of `cloudroutes check` instead')
    .action((hostPort: string, o) =>
      run(async (ctx) => {
        const store = await storeOf(ctx, o.local);
        if (!(await store.forget(hostPort))) {
          const known = Object.keys(await store.list());
          throw errors.badSetting('host:port', hostPort, `no key is recorded for it in ${store.where}${known.length ? ` (recorded: ${known.join(', ')})` : ''}`);
        }
        console.log(`forgot the SSH host key of ${knownHostName(hostPort)} (${store.where}); the next connection records the key it meets`);
      }),
    );
}

#!/usr/bin/env node
/** The `cloudroutes` command. */
import { Command, CommanderError } from 'commander';
import { CloudRoutesError } from '../core/errors.js';
import { CliContext } from './context.js';
import { monitorCommands, reactionCommands } from './config-commands.js';
import { tryCommands } from './try-commands.js';
import { targetCommands } from './target-commands.js';
import { configIoCommands } from './config-io-commands.js';
import { statusCommands } from './status-commands.js';
import { backlogCommands } from './backlog-commands.js';
import { storeCommands } from './store-commands.js';
import { apikeyCommands } from './apikey-commands.js';
import { knownHostsCommands } from './known-hosts-commands.js';
import { processCommands } from './process-commands.js';
import { reactCommand } from './react-command.js';
import { secretsCommands } from './secrets-commands.js';
import { runDev } from './dev.js';
import { keysCommands } from './keys-commands.js';
import { clusterCommand } from './cluster-command.js';
import { auditCommand } from './audit-command.js';
import { incidentCommands } from './incident-commands.js';
import { VERSION } from '../core/version.js';

const GLOBAL_ENV: Record<string, string> = { redis: 'REDIS_URL', store: 'CLOUDROUTES_STORE', zone: 'CLOUDROUTES_ZONE', broker: 'CLOUDROUTES_BROKER' };

/** Prints an error the way a user can act on it and sets the exit status (2 for bad usage). */
function fail(err: unknown): void {
  const usage = err instanceof CloudRoutesError ? err.usage : false;
  const code = err instanceof CloudRoutesError ? ` [${err.code}]` : '';
  console.error(`error${code}: ${(err as Error).message ?? String(err)}`);
  process.exitCode = usage ? 2 : 1;
}

/** Runs a one-shot command with a context that is closed afterwards. */
async function run(fn: (ctx: CliContext) => Promise<void>): Promise<void> {
  let ctx: CliContext | undefined;
  try {
    ctx = new CliContext();
    await fn(ctx);
  } catch (err) {
    fail(err);
  } finally {
    await ctx?.close();
  }
}

const program = new Command('cloudroutes')
  .description('CloudRoutes: monitors that detect failures and reactions that fix them')
  .version(VERSION)
  .option('--redis <url>', 'Redis URL (env REDIS_URL)')
  .option('--store <spec>', 'store of record: sqlite:<path> (env CLOUDROUTES_STORE)')
  .option('--zone <name>', 'zone (env CLOUDROUTES_ZONE, default "default")')
  .option('--broker <host>', 'broker host (env CLOUDROUTES_BROKER, default 127.0.0.1)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .hook('preAction', (cmd) => {
    for (const [opt, env] of Object.entries(GLOBAL_ENV)) {
      const v = cmd.opts()[opt] as string | undefined;
      if (v) process.env[env] = v;
    }
  });

program
  .command('dev')
  .description('run the whole cluster here (broker, bridge, control, worker, sink) on embedded defaults')
  .action(() => runDev().catch((err) => { fail(err); process.exit(process.exitCode ?? 1); }));

processCommands(program);
monitorCommands(program, run);
reactionCommands(program, run);
tryCommands(program, run);
targetCommands(program, run);
configIoCommands(program, run);
statusCommands(program, run);
auditCommand(program, run);
incidentCommands(program, run);
clusterCommand(program, run);
backlogCommands(program, run);
reactCommand(program, run);
storeCommands(program, run);
apikeyCommands(program, run);
keysCommands(program, run);
knownHostsCommands(program, run);
secretsCommands(program, run);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    fail(err);
  }
}

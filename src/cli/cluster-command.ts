/** `cloudroutes cluster`: the zone's processes as their heartbeats tell them, and the kinds it lacks. */
import type { Command } from 'commander';
import { formatDuration } from '../core/duration.js';
import { errors } from '../core/errors.js';
import { keys } from '../core/keys.js';
import { GONE_AFTER_BEATS, readProcesses, REQUIRED_KINDS } from '../core/processes.js';
import type { CliContext } from './context.js';
import { printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Exit status when a required kind has no live process while the zone has monitors. */
export const MISSING_EXIT = 3;

const seconds = (ms: number) => formatDuration(Math.round(ms / 1000));

/** Registers `cluster`. */
export function clusterCommand(program: Command, run: Run): void {
  program
    .command('cluster')
    .description("the zone's processes (control, broker, worker, sink, bridge, web) from their heartbeats: live or gone, and the kinds missing")
    .option('--json', 'print {zone, monitors, processes: [{kind, id, host, pid, version, concurrency, started, lastSeen, ageMs, uptimeMs, state}], missing}')
    .addHelpText('after', `
Every process writes a heartbeat to the zone's Redis every CLOUDROUTES_HEARTBEAT_INTERVAL (default 5s); one that
missed ${GONE_AFTER_BEATS} is "gone" (killed, hung, or its main loop ended). A process stopped cleanly removes its entry; one
that starts on the same host takes the place of gone ones of its kind. Entries gone for a day are removed.

Exit status: 0 when ${REQUIRED_KINDS.join(', ')} each have a live process (or the zone has no monitors);
${MISSING_EXIT} when one of them has none while the zone has monitors (stderr says which and what to start);
1 when Redis cannot be reached.

Examples:
  cloudroutes cluster
  cloudroutes cluster --zone eu --json`)
    .action((o: { json?: boolean }) =>
      run(async (ctx) => {
        const redis = await ctx.redis();
        const zone = ctx.settings.zone;
        const [seen, monitors] = await Promise.all([readProcesses(redis, zone), redis.scard(keys(zone).monitors)]);
        const missing = seen.missing;
        const fault = missing.length && monitors > 0 ? errors.processesMissing(zone, monitors, missing) : undefined;
        if (fault) process.exitCode = MISSING_EXIT;
        if (o.json) {
          printJson({ zone, monitors, processes: seen.processes, missing });
          if (fault) console.error(`error [${fault.code}]: ${fault.message}`);
          return;
        }
        console.log(`zone ${zone}: ${monitors} monitors, ${seen.processes.filter((p) => p.state === 'live').length} processes live, ${seen.processes.filter((p) => p.state === 'gone').length} gone`);
        printTable(['KIND', 'HOST', 'PID', 'VERSION', 'CONCURRENCY', 'UPTIME', 'LAST HEARTBEAT', 'STATE'], seen.processes.map((p) => [
          p.kind, p.host, p.pid, p.version, p.concurrency, seconds(p.uptimeMs), `${seconds(p.ageMs)} ago`, p.state,
        ]));
        if (fault) console.error(`error [${fault.code}]: ${fault.message}`);
        else if (missing.length) console.log(`missing: ${missing.join(', ')} (the zone has no monitors yet, so nothing waits for them)`);
      }),
    );
}

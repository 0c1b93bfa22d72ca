/** `cloudroutes monitor ...` and `cloudroutes reaction ...`. */
import { Command, Option } from 'commander';
import { errors } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { shownRecord } from '../core/shown-data.js';
import { budgetText } from '../core/budget.js';
import { ladderOf } from '../core/ladder.js';
import { resetBreakers } from '../manage/breakers.js';
import { parseSince } from '../manage/audit.js';
import { EVENTS_PER_QUERY, monitorStats, reactionStats, statsWindow } from '../manage/incidents.js';
import { printMonitorStats, printReactionStats } from './incident-commands.js';
import { CALL_ON_VALUES, REACTION_KIND_VALUES } from '../core/types.js';
import { readStates, readZoneViews } from '../manage/state.js';
import { toldEndpoint, type ToldEndpoint } from '../manage/told-urls.js';
import type { CliContext } from './context.js';
import { isoTime, parseJsonOption, printJson, printTable, intOption } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** Says where a monitor that is told, not polled, is pinged or called; the token is printed only here. */
function printToldEndpoint(t: ToldEndpoint): void {
  if (t.failUrl) return console.log(`ping   ${t.url}   (GET or POST)\nfail   ${t.failUrl}`);
  console.log(`post   ${t.url}\ntoken  ${t.token}   (header X-CloudRoutes-Token, or ?token=)`);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** Registers the monitor commands. */
export function monitorCommands(program: Command, run: Run): void {
  const monitor = program.command('monitor').description('add, list, show and remove monitors');

  monitor
    .command('add')
    .description('add a monitor; the bridge carries it into the schedule within a second')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--ctype <ctype>', 'check module, e.g. http-get-statuscode (see "cloudroutes modules")')
    .option('--interval <duration>', 'time between checks: 10s, 1m, 5m or seconds (1s to 7d)', '30s')
    .option('--data <json>', "the check's data as JSON", '{}')
    .option('--reactions <ids>', 'comma-separated reaction ids to run on this monitor', list, [])
    .option('--zones <zones>', 'comma-separated zones that check it (default: every zone)', list, [])
    .option('--quorum <n>', 'zones that must see it failed within one interval before it is failed', intOption('--quorum', 1), 1)
    .option('--json', 'print {"id": ...} (heartbeat and webhook monitors: also "token", "url" and for heartbeats "failUrl")')
    .addHelpText('after', `\nExample:\n  cloudroutes monitor add --name site --ctype http-get-statuscode --interval 10s \\\n    --data '{"url":"http://127.0.0.1:8080/","codes":["200"]}' --reactions r-abc`)
    .action((o) =>
      run(async (ctx) => {
        const data = parseJsonOption(o.data, '--data');
        const m = await (await ctx.config()).addMonitor({
          name: o.name, ctype: o.ctype, interval: o.interval, data, reactions: o.reactions, zones: o.zones, quorum: o.quorum,
        });
        const told = toldEndpoint(m, ctx.secretKey);
        if (o.json) printJson({ id: m.id, ...told });
        else console.log(m.id);
        if (told && !o.json) printToldEndpoint(told);
      }),
    );

  monitor
    .command('list')
    .description('list monitors')
    .option('--json', 'print a JSON array')
    .action((o) =>
      run(async (ctx) => {
        const monitors = await (await ctx.store()).listMonitors();
        if (o.json) return printJson(await Promise.all(monitors.map((m) => shownRecord(ctx, m, false))));
        printTable(['ID', 'NAME', 'CTYPE', 'INTERVAL', 'REACTIONS'], monitors.map((m) => [m.id, m.name, m.ctype, formatDuration(m.interval), m.reactions.join(',')]));
      }),
    );

  monitor
    .command('show <id>')
    .description('show a monitor: its config, its live state, its incidents of the last 30 days (MTTR over 7 and 30 days) and recent events')
    .option('--json', 'print one JSON object ("stats": the incidents and mean times, see "cloudroutes incident --help")')
    .option('--events <n>', 'how many recent events', intOption('--events', 1), 10)
    .action((id: string, o) =>
      run(async (ctx) => {
        const store = await ctx.store();
        const stored = await store.getMonitor(id);
        if (!stored) throw errors.noSuchMonitor(id);
        const m = await shownRecord(ctx, stored, false);
        const redis = await ctx.redis();
        const state = (await readStates(redis, ctx.settings.zone, [id])).get(id)!;
        const zoneViews = await readZoneViews(redis, ctx.settings.zone, id);
        const events = await store.events({ monitorId: id, limit: o.events });
        const stats = await monitorStats(store, id);
        if (o.json) return printJson({ ...m, state, zoneViews, stats, events });
        console.log(`${m.id}  ${m.name}\n  check     ${m.ctype} every ${formatDuration(m.interval)}\n  data      ${JSON.stringify(m.data)}`);
        console.log(`  reactions ${m.reactions.join(', ') || '-'}`);
        console.log(`  zones     ${m.zones?.join(', ') || 'every zone'}${(m.quorum ?? 1) > 1 ? ` (failed when ${m.quorum} zones see it failed)` : ''}`);
        console.log(`  status    ${state.status} (failcount ${state.failcount}, last check ${isoTime(state.lastCheck) ?? 'never'}, latency ${state.latencyMs ?? '-'} ms)`);
        if (state.message) console.log(`  message   ${state.message}`);
        for (const [z, v] of Object.entries(zoneViews)) console.log(`  zone ${z.padEnd(8)} ${v.status} (failcount ${v.failcount}, last check ${isoTime(v.lastCheck) ?? 'never'})`);
        printMonitorStats(stats);
        console.log('\nRecent events:');
        printTable(['AT', 'KIND', 'STATUS', 'FAILCOUNT', 'REACTION', 'OUTCOME', 'MESSAGE'],
          events.map((e) => [isoTime(e.at), e.kind, e.kind === 'status' ? `${e.previousStatus ?? '-'} -> ${e.status}` : e.status, e.failcount, e.reactionId, e.outcome, e.message]));
      }),
    );

  monitor
    .command('edit <id>')
    .description('change a monitor: the options given replace those fields, the others stay as they are')
    .option('--name <name>', 'a name for people')
    .option('--ctype <ctype>', 'check module (give its --data too)')
    .option('--interval <duration>', 'time between checks: 10s, 1m, 5m or seconds (1s to 7d)')
    .option('--data <json>', 'the check\'s whole data as JSON; a secret field given as "(secret)" keeps its value')
    .option('--reactions <ids>', 'comma-separated reaction ids ("" for none)', list)
    .option('--zones <zones>', 'comma-separated zones that check it ("" for every zone)', list)
    .option('--quorum <n>', 'zones that must see it failed within one interval before it is failed', intOption('--quorum', 1))
    .option('--json', 'print the monitor as JSON')
    .addHelpText('after', `\nExample:\n  cloudroutes monitor edit m-abc --interval 1m --reactions r-abc,r-def`)
    .action((id: string, o) =>
      run(async (ctx) => {
        const m = await (await ctx.store()).getMonitor(id);
        if (!m) throw errors.noSuchMonitor(id);
        const updated = await (await ctx.config()).updateMonitor(id, {
          name: o.name ?? m.name, ctype: o.ctype ?? m.ctype, interval: o.interval ?? m.interval,
          data: o.data === undefined ? m.data : parseJsonOption(o.data, '--data'),
          reactions: o.reactions ?? m.reactions, zones: o.zones ?? m.zones, quorum: o.quorum ?? m.quorum,
        });
        if (o.json) printJson(await shownRecord(ctx, updated, false));
        else console.log(`updated ${id}`);
      }),
    );

  monitor
    .command('rm <id>')
    .description('remove a monitor (its history stays in the store)')
    .option('--json', 'print {"removed": id}')
    .action((id: string, o) =>
      run(async (ctx) => {
        await (await ctx.config()).removeMonitor(id);
        if (o.json) printJson({ removed: id });
        else console.log(`removed ${id}`);
      }),
    );
}

/** Registers the reaction commands. */
export function reactionCommands(program: Command, run: Run): void {
  const reaction = program.command('reaction').description('add, list, show and remove reactions');

  reaction
    .command('add')
    .description('add a reaction; attach it to monitors with "monitor add --reactions"')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--rtype <rtype>', 'reaction module, e.g. webhook or log (see "cloudroutes modules")')
    .option('--trigger <n>', 'consecutive failed results before it runs on failure', intOption('--trigger', 1), 1)
    .option('--frequency <duration>', 'least time between two runs for the same monitor, e.g. 5m (at most 30d)', '0')
    .addOption(new Option('--call-on <status>', 'which results it runs on').choices(CALL_ON_VALUES).default('failed'))
    .option('--once', 'run at most once per episode (a stretch of the same status)')
    .addOption(new Option('--kind <kind>', "fix (acts on what failed; budgets apply) or notify (tells a person); default: the module's kind").choices(REACTION_KIND_VALUES))
    .option('--max-runs <n>', 'budget: most runs for one monitor within --per (a fix without one: 3 per 1h)', intOption('--max-runs', 1))
    .option('--per <duration>', 'budget window, e.g. 10m or 1h (1s to 30d)')
    .option('--target <name>', 'what it acts on (a host, a DNS record): every reaction naming it shares its budget ("cloudroutes target set")')
    .option('--dry-run', 'decide for real but act on nothing: the audit records what it would have done (dry-run)')
    .option('--escalates-from <reaction>', 'make it the next rung of a ladder: it runs when that reaction escalates for the monitor (breaker open or budget spent)')
    .option('--verify-every <duration>', "a fix's verification: check the monitor this often after it runs (default 5s, at least 1s)")
    .option('--verify-for <duration>', "a fix's verification window; fixed or not-fixed at its end (default 2m; 0 turns it off)")
    .option('--breaker <n>', 'consecutive not-fixed runs for one monitor before the fix stops and escalates (default 2)', intOption('--breaker', 1))
    .option('--breaker-reset <duration>', 'healthy this long and an open breaker closes (default 30m)')
    .option('--data <json>', "the reaction's data as JSON", '{}')
    .option('--json', 'print {"id": ...}')
    .addHelpText('after', `\nExamples:\n  cloudroutes reaction add --name page-me --rtype webhook --call-on failed --trigger 3 --frequency 5m \\\n    --data '{"url":"http://127.0.0.1:9000/hook"}'\n  cloudroutes reaction add --name restart-web --rtype ssh-command --trigger 2 --max-runs 2 --per 1h --target web-1 \\\n    --data '{"host":"web-1","username":"ops","command":"systemctl restart nginx"}'`)
    .action((o) =>
      run(async (ctx) => {
        const data = parseJsonOption(o.data, '--data');
        const r = await (await ctx.config()).addReaction({
          name: o.name, rtype: o.rtype, trigger: o.trigger, frequency: o.frequency, callOn: o.callOn, once: o.once === true,
          kind: o.kind, maxRuns: o.maxRuns, per: o.per, target: o.target, dryRun: o.dryRun === true,
          verifyEvery: o.verifyEvery, verifyFor: o.verifyFor, breaker: o.breaker, breakerReset: o.breakerReset, escalatesFrom: o.escalatesFrom, data,
        });
        if (o.json) printJson({ id: r.id });
        else console.log(r.id);
      }),
    );

  reaction
    .command('list')
    .description('list reactions')
    .option('--json', 'print a JSON array')
    .action((o) =>
      run(async (ctx) => {
        const reactions = await (await ctx.store()).listReactions();
        if (o.json) return printJson(await Promise.all(reactions.map((r) => shownRecord(ctx, r, false))));
        printTable(['ID', 'NAME', 'RTYPE', 'KIND', 'CALL-ON', 'TRIGGER', 'FREQUENCY', 'ONCE', 'BUDGET', 'TARGET'],
          reactions.map((r) => [r.id, r.name, r.rtype, r.kind ?? 'notify', r.callOn, r.trigger, formatDuration(r.frequency), r.once ? 'yes' : 'no', budgetText(r), r.target ?? '']));
      }),
    );

  reaction
    .command('show <id>')
    .description('show a reaction, with its figures over the window: decisions by outcome, fix success rate, time from fix to healthy')
    .option('--since <when>', 'the window of the figures: a duration back from now (7d), an ISO time or epoch ms (default 30d)')
    .option('--json', 'print one JSON object ("stats": the figures)')
    .addHelpText('after', `
The figures are read from the store's decisions of each monitor naming the reaction now (at most ${EVENTS_PER_QUERY} per monitor).
Success rate: fixed / (fixed + not-fixed). Time to healthy: from the fix's run to the healthy result (median, p90).`)
    .action((id: string, o) =>
      run(async (ctx) => {
        const store = await ctx.store();
        const stored = await store.getReaction(id);
        if (!stored) throw errors.noSuchReaction(id);
        const r = await shownRecord(ctx, stored, false);
        const all = await store.listReactions();
        const ladder = ladderOf(all, all.find((x) => x.id === stored.id) ?? stored);
        const stats = await reactionStats(store, id, statsWindow(o.since === undefined ? undefined : parseSince(o.since)));
        if (o.json) return printJson({ ...r, ladder: ladder.map((x) => x.id), stats });
        console.log(`${r.id}  ${r.name}\n  rtype     ${r.rtype} (${stored.kind ?? 'notify'})\n  call-on   ${r.callOn} (trigger ${r.trigger}, frequency ${formatDuration(r.frequency)}${r.once ? ', once per episode' : ''})`);
        console.log(`  budget    ${budgetText(stored) || 'none'}${stored.target ? `\n  target    ${stored.target}` : ''}${stored.dryRun ? '\n  dry run   yes: it decides for real and acts on nothing' : ''}`);
        if (ladder.length > 1) console.log(`  ladder    ${ladder.map((x) => (x.id === stored.id ? `[${x.name}]` : x.name)).join(' -> ')}  (each runs when the one before it escalates)`);
        if (stored.verifyFor !== undefined) {
          console.log(`  verify    ${stored.verifyFor > 0 ? `every ${formatDuration(stored.verifyEvery ?? 0)} for ${formatDuration(stored.verifyFor)} after a run` : 'off'}; breaker after ${stored.breaker} not-fixed runs, reset after ${formatDuration(stored.breakerReset ?? 0)} healthy`);
        }
        console.log(`  data      ${JSON.stringify(r.data)}`);
        printReactionStats(stats);
      }),
    );

  reaction
    .command('edit <id>')
    .description('change a reaction: the options given replace those fields, the others stay as they are')
    .option('--name <name>', 'a name for people')
    .option('--rtype <rtype>', 'reaction module (give its --data too)')
    .option('--trigger <n>', 'consecutive failed results before it runs on failure', intOption('--trigger', 1))
    .option('--frequency <duration>', 'least time between two runs for the same monitor, e.g. 5m (at most 30d)')
    .addOption(new Option('--call-on <status>', 'which results it runs on').choices(CALL_ON_VALUES))
    .option('--once', 'run at most once per episode')
    .option('--no-once', 'run whenever its rules hold')
    .addOption(new Option('--kind <kind>', 'fix or notify').choices(REACTION_KIND_VALUES))
    .option('--max-runs <n>', 'budget: most runs for one monitor within --per', intOption('--max-runs', 1))
    .option('--per <duration>', 'budget window, e.g. 10m or 1h (1s to 30d)')
    .option('--target <name>', 'what it acts on: reactions naming one target share its budget')
    .option('--no-target', 'act on no named target')
    .option('--dry-run', 'decide for real but act on nothing')
    .option('--no-dry-run', 'act for real')
    .option('--escalates-from <reaction>', 'make it the next rung after that reaction')
    .option('--no-escalates-from', 'no longer a rung: it runs on its own rules')
    .option('--verify-every <duration>', "a fix's verification: check the monitor this often after it runs")
    .option('--verify-for <duration>', "a fix's verification window (0 turns it off)")
    .option('--breaker <n>', 'consecutive not-fixed runs before the fix stops and escalates', intOption('--breaker', 1))
    .option('--breaker-reset <duration>', 'healthy this long and an open breaker closes')
    .option('--data <json>', 'the reaction\'s whole data as JSON; a secret field given as "(secret)" keeps its value')
    .option('--json', 'print the reaction as JSON')
    .action((id: string, o) =>
      run(async (ctx) => {
        const r = await (await ctx.store()).getReaction(id);
        if (!r) throw errors.noSuchReaction(id);
        const updated = await (await ctx.config()).updateReaction(id, {
          name: o.name ?? r.name, rtype: o.rtype ?? r.rtype, trigger: o.trigger ?? r.trigger, frequency: o.frequency ?? r.frequency,
          callOn: o.callOn ?? r.callOn, once: o.once ?? r.once, kind: o.kind ?? r.kind, maxRuns: o.maxRuns ?? r.maxRuns, per: o.per ?? r.per,
          target: o.target === false ? undefined : o.target ?? r.target, dryRun: o.dryRun ?? r.dryRun,
          verifyEvery: o.verifyEvery ?? r.verifyEvery, verifyFor: o.verifyFor ?? r.verifyFor, breaker: o.breaker ?? r.breaker, breakerReset: o.breakerReset ?? r.breakerReset,
          escalatesFrom: o.escalatesFrom === false ? undefined : o.escalatesFrom ?? r.escalatesFrom, data: o.data === undefined ? r.data : parseJsonOption(o.data, '--data'),
        });
        if (o.json) printJson(await shownRecord(ctx, updated, false));
        else console.log(`updated ${id}`);
      }),
    );

  reaction
    .command('reset <id>')
    .description("close the reaction's open breaker (for one monitor, or every monitor) in this zone, so the fix may run again; recorded in the audit")
    .option('--monitor <id>', 'only for this monitor')
    .option('--json', 'print {"closed": [monitor ids]}')
    .action((id: string, o) =>
      run(async (ctx) => {
        if (!(await (await ctx.store()).getReaction(id))) throw errors.noSuchReaction(id);
        const result = await resetBreakers(await ctx.redis(), ctx.settings.zone, id, 'cli', o.monitor);
        if (o.json) return printJson(result);
        console.log(result.closed.length ? `closed the breaker of ${id} for ${result.closed.join(', ')}` : `no open breaker of ${id}${o.monitor ? ` for ${o.monitor}` : ''} in zone ${ctx.settings.zone}`);
      }),
    );

  reaction
    .command('rm <id>')
    .description('remove a reaction that no monitor uses')
    .option('--json', 'print {"removed": id}')
    .action((id: string, o) =>
      run(async (ctx) => {
        await (await ctx.config()).removeReaction(id);
        if (o.json) printJson({ removed: id });
        else console.log(`removed ${id}`);
      }),
    );
}

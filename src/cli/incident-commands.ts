/** `cloudroutes incident ...`, and the figures "reaction show" and "monitor show" print (src/manage/incidents.ts). */
import type { Command } from 'commander';
import { formatDuration } from '../core/duration.js';
import { DECISION_VALUES } from '../core/types.js';
import { parseSince } from '../manage/audit.js';
import { findIncident, incidentList, statsWindow, EVENTS_PER_QUERY, type Incident, type MonitorStats, type ReactionStats } from '../manage/incidents.js';
import type { CliContext } from './context.js';
import { intOption, isoTime, printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

/** "4.2 s" under a minute, "3m20s" above; "-" for none. */
export function msText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : formatDuration(Math.round(ms / 1000));
}

const windowText = (w: { since: number; until: number }) => `since ${isoTime(w.since)}`;
const truncatedNote = (truncated: boolean) =>
  truncated ? `\n  (a monitor had more than ${EVENTS_PER_QUERY} events in the window: the oldest are not counted; narrow it with --since)` : '';

/** The lines "reaction show" adds: decisions by outcome, fix success rate, time from fix to healthy. */
export function printReactionStats(s: ReactionStats): void {
  const counts = DECISION_VALUES.filter((d) => s.decisions[d]).map((d) => `${d} ${s.decisions[d]}`).join(', ') || 'none';
  const rate = s.successRate === null ? '- (no run verified)' : `${Math.round(s.successRate * 100)}% (${s.fixed} fixed, ${s.notFixed} not fixed)`;
  console.log(`\nFigures ${windowText(s)} (${s.monitors} monitor${s.monitors === 1 ? '' : 's'} naming it):`);
  console.log(`  decisions ${counts}\n  fixes     ${rate}`);
  console.log(`  healthy   median ${msText(s.timeToHealthyMs.median)}, p90 ${msText(s.timeToHealthyMs.p90)} after the fix ran${truncatedNote(s.truncated)}`);
}

/** The lines "monitor show" adds: its incidents of the last 30 days and mean times to detect and recover. */
export function printMonitorStats(s: MonitorStats): void {
  console.log(`\nIncidents ${windowText(s)}: ${s.incidents.length}${s.ongoing ? ` (${s.ongoing} going on)` : ''}`);
  console.log(`  MTTR      7d ${msText(s.mttrMs['7d'])}, 30d ${msText(s.mttrMs['30d'])}\n  MTTD      7d ${msText(s.mttdMs['7d'])}, 30d ${msText(s.mttdMs['30d'])}${truncatedNote(s.truncated)}`);
  if (s.incidents.length) incidentTable(s.incidents.slice(0, 10));
}

function incidentTable(list: Omit<Incident, 'timeline'>[]): void {
  printTable(['INCIDENT', 'STARTED', 'RECOVERED', 'DETECT', 'RECOVER', 'DECISIONS'],
    list.map((i) => [i.id, isoTime(i.startedAt), isoTime(i.recoveredAt) ?? 'going on', msText(i.detectMs), msText(i.recoverMs), i.decisions]));
}

const ID_HELP = `An incident is an episode of a monitor that went failed, in one zone: from its first failed result to its first
healthy one. Its id is <monitorId>:<zone>:<episode> (m-abc:default:3), episodes being numbered per monitor and zone.
Time to detect: from the first failed result to the start of the first reaction run (ran or dry-run).
Time to recover: from the first failed result to the first healthy one. Each monitor's status changes and
decisions in the window are read (at most ${EVENTS_PER_QUERY} of each per monitor).`;

/** Registers `incident list` and `incident show`. */
export function incidentCommands(program: Command, run: Run): void {
  const incident = program.command('incident').description('incidents of monitors: when they failed, what was decided, when they recovered')
    .addHelpText('after', `\n${ID_HELP}`);

  incident
    .command('list')
    .description('incidents that started in the window, newest first, with their time to detect and to recover')
    .option('--monitor <id>', "only this monitor's incidents (default: every monitor's)")
    .option('--since <when>', 'the window: a duration back from now (30m, 1h, 7d), an ISO time or epoch ms', '7d')
    .option('--limit <n>', 'most incidents to show', intOption('--limit', 1, 10_000), 100)
    .option('--json', 'print {"since", "until", "incidents": [... with their timelines], "truncated"}')
    .addHelpText('after', `\n${ID_HELP}\n\nExamples:\n  cloudroutes incident list --since 24h\n  cloudroutes incident list --monitor m-abc --since 30d --json`)
    .action((o) =>
      run(async (ctx) => {
        const page = await incidentList(await ctx.store(), { ...statsWindow(parseSince(o.since)), monitorId: o.monitor, limit: o.limit });
        if (o.json) return printJson(page);
        incidentTable(page.incidents);
        if (page.truncated) console.log(truncatedNote(true).trim());
      }),
    );

  incident
    .command('show <incident> [episode]')
    .description('one incident with its timeline: the first failure, every decision in order, the recovery')
    .option('--zone <zone>', 'the zone, when the monitor runs in several (an id names it)')
    .option('--since <when>', 'how far back to look for it: a duration (30d), an ISO time or epoch ms', '30d')
    .option('--json', 'print the incident as JSON')
    .addHelpText('after', `\nName it by its id, or by monitor and an episode number, its start time (epoch ms or ISO) or any time in it.\n\n${ID_HELP}\n\nExamples:\n  cloudroutes incident show m-abc:default:3\n  cloudroutes incident show m-abc 3\n  cloudroutes incident show m-abc 2026-01-31T12:00:00Z`)
    .action((first: string, episode: string | undefined, o) =>
      run(async (ctx) => {
        const w = statsWindow(parseSince(o.since));
        const store = await ctx.store();
        const inc = episode === undefined ? await findIncident(store, first, w) : await findIncident(store, episode, w, first, o.zone);
        if (o.json) return printJson(inc);
        console.log(`${inc.id}  monitor ${inc.monitorId} in zone ${inc.zone}, episode ${inc.episode ?? '-'}`);
        console.log(`  failed    ${isoTime(inc.startedAt)}\n  recovered ${isoTime(inc.recoveredAt) ?? 'not yet'}`);
        console.log(`  detect    ${msText(inc.detectMs)} (to the first reaction run)\n  recover   ${msText(inc.recoverMs)}\n\nTimeline:`);
        printTable(['AT', '+', 'WHAT', 'REACTION', 'REASON', 'TOOK', 'MESSAGE'], inc.timeline.map((s) => [
          isoTime(s.at), msText(s.at - inc.startedAt), s.kind === 'decision' ? s.outcome : s.kind === 'status' ? `status ${s.status}` : s.kind,
          s.reactionId, s.reason, s.tookMs === undefined ? '' : msText(s.tookMs), s.message,
        ]));
      }),
    );
}

/** `cloudroutes target ...`: the budgets every reaction naming one target shares. */
import type { Command } from 'commander';
import { budgetText } from '../core/budget.js';
import { DEFAULT_TARGET_BUDGET, MAX_BUDGET_RUNS } from '../core/limits.js';
import { removalNote, TargetService, type TargetView } from '../manage/targets.js';
import type { CliContext } from './context.js';
import { intOption, isoTime, printJson, printTable } from './output.js';

type Run = (fn: (ctx: CliContext) => Promise<void>) => Promise<void>;

const DEFAULT_TEXT = budgetText(DEFAULT_TARGET_BUDGET);
const budgetOf = (t: TargetView) => `${budgetText(t)}${t.default ? ' (default)' : ''}`;
const reactionsOf = (t: TargetView) => t.reactions.map((r) => r.id).join(',');

/** Registers the target commands. */
export function targetCommands(program: Command, run: Run): void {
  const target = program
    .command('target')
    .description(`budgets of targets (a host, a DNS record): every reaction naming one with --target shares it (default ${DEFAULT_TEXT})`)
    .addHelpText('after', `\nA fix names what it acts on with "reaction add --target NAME". However many monitors fail, the fixes naming\none target run at most its budget's runs within its window; the others are held (reason target-budget).\n\nExamples:\n  cloudroutes target set web-2 --max-runs 2 --per 1h\n  cloudroutes target list\n  cloudroutes target show web-2\n  cloudroutes target rm web-2`);

  target
    .command('set <name>')
    .description('give a target its budget (created or replaced); the bridge carries it to every zone within a second')
    .requiredOption('--max-runs <n>', `most runs of every reaction naming it together within --per (1 to ${MAX_BUDGET_RUNS})`, intOption('--max-runs', 1, MAX_BUDGET_RUNS))
    .requiredOption('--per <duration>', 'the window, e.g. 10m or 1h (1s to 30d)')
    .option('--json', 'print the target as JSON')
    .addHelpText('after', '\nNames use letters, digits and . _ : @ / - (e.g. web-1.example.com, db/primary).\n\nExamples:\n  cloudroutes target set web-2 --max-runs 2 --per 1h\n  cloudroutes target set dns:www.example.com --max-runs 1 --per 30m --json')
    .action((name: string, o) =>
      run(async (ctx) => {
        const t = await new TargetService(await ctx.store()).set(name, { maxRuns: o.maxRuns, per: o.per });
        if (o.json) return printJson(t);
        console.log(`target ${t.name}: ${budgetText(t)}`);
      }),
    );

  target
    .command('list')
    .description(`list targets: those given a budget and those reactions name (which have the default, ${DEFAULT_TEXT})`)
    .option('--json', 'print a JSON array of {name, maxRuns, per, default, reactions: [{id, name}]}')
    .addHelpText('after', '\nExample:\n  cloudroutes target list --json')
    .action((o) =>
      run(async (ctx) => {
        const targets = await new TargetService(await ctx.store()).list();
        if (o.json) return printJson(targets);
        printTable(['NAME', 'BUDGET', 'REACTIONS'], targets.map((t) => [t.name, budgetOf(t), reactionsOf(t)]));
      }),
    );

  target
    .command('show <name>')
    .description("show a target: its budget, the reactions naming it and its runs inside the window (this zone's Redis)")
    .option('--json', 'print one JSON object, with "runs": [{monitorId, reactionId, at}] newest first')
    .addHelpText('after', '\nExample:\n  cloudroutes target show web-2 --zone eu')
    .action((name: string, o) =>
      run(async (ctx) => {
        const t = await new TargetService(await ctx.store()).show(name, await ctx.redis(), ctx.settings.zone);
        if (o.json) return printJson(t);
        console.log(`${t.name}\n  budget    ${budgetOf(t)}, shared by every reaction naming it`);
        console.log(`  reactions ${t.reactions.map((r) => `${r.id} (${r.name})`).join(', ') || '-'}`);
        console.log(`  runs      ${t.runs.length} of ${t.maxRuns} inside the window in zone ${t.zone}${t.runs.length >= t.maxRuns ? ': spent, further runs are held' : ''}`);
        if (t.runs.length) printTable(['AT', 'MONITOR', 'REACTION'], t.runs.map((r) => [isoTime(r.at), r.monitorId, r.reactionId]));
      }),
    );

  target
    .command('rm <name>')
    .description(`remove a target's budget; reactions still naming it fall back to the default (${DEFAULT_TEXT})`)
    .option('--json', 'print {"removed": name, "reactions": [{id, name}]} (the reactions still naming it)')
    .addHelpText('after', '\nExample:\n  cloudroutes target rm web-2')
    .action((name: string, o) =>
      run(async (ctx) => {
        const reactions = await new TargetService(await ctx.store()).remove(name);
        if (o.json) return printJson({ removed: name, reactions });
        console.log(`removed ${name}`);
        if (reactions.length) console.log(removalNote(reactions));
      }),
    );
}

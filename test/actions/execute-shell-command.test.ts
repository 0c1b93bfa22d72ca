import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import { templateProblems } from '../../src/core/template.js';
import type { ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { until } from '../helpers/peers.js';
import { pidsWith } from '../helpers/procs.js';
import { assertDryRun, dryRunCtx, lastMessage, outcomeOf } from './_recorder.js';

let mod: ReactionModule;
const dir = mkdtempSync(join(tmpdir(), 'cr-shell-'));
test.before(async () => {
  mod = await reactionLoader().load('execute-shell-command');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const logs: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });

function event(data: Record<string, unknown>, message = 'connection refused'): ReactionEvent {
  return {
    monitor: { id: 'mon-7', name: "web's \"front\" $(touch pwned)", ctype: 'tcp-check' },
    reaction: { id: 'rea-3', name: 'restart web', rtype: 'execute-shell-command', data },
    status: 'failed',
    previousStatus: 'healthy',
    failcount: 3,
    zone: 'eu',
    checkedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    message,
  };
}
const react = async (data: Record<string, unknown>, ms = 5000) => outcomeOf(await mod.react(event(data), { signal: AbortSignal.timeout(ms), logger }));
const lastLog = () => logs[logs.length - 1]!;

test('schema rejects bad data, naming the field, and unknown template fields', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { command: '' }).join(), 'data.command must have at least 1 characters');
  assert.match(validate(f, { argv: 'systemctl' }).join(), 'data.argv must be an array');
  assert.match(validate(f, { command: 'x', env: {} }).join(), 'data.env is not a known field');
  assert.equal(validate(f, { command: 'x', argv: ['x'] }), ['data must set exactly one of command, argv (it sets command and argv)']);
  assert.match(templateProblems(f, { command: 'echo {{monitor.nam}}' }).join(), 'data.command uses unknown template field {{monitor.nam}}');
  assert.match(templateProblems(f, { argv: ['echo', '{{nope}}'] }).join(), 'data.argv[1] uses unknown template field {{nope}}');
  assert.equal(templateProblems(f, { command: 'systemctl restart {{monitor.name}}' }), []);
  assert.is(mod.meta.kind, 'fix');
});

test('exit 0 is ran; the event reaches the command as CR_* variables', async () => {
  const out = join(dir, 'env.txt');
  const outcome = await react({ command: `env | grep ^CR_ | sort > ${out}` });
  assert.is(outcome, 'ran');
  const env = Object.fromEntries(readFileSync(out, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(env, {
    CR_CHECKED_AT: '2026-01-02T03:04:05.000Z',
    // Empty unless the reaction runs because another escalated (call-on escalated).
    CR_ESCALATION_REACTION_NAME: '',
    CR_ESCALATION_REASON: '',
    CR_ESCALATION_RUNS: '',
    CR_FAILCOUNT: '3',
    // Empty in an event without an incident (the sink always gives one).
    CR_INCIDENT_STARTED_AT: '',
    CR_INCIDENT_URL: '',
    CR_MESSAGE: 'connection refused',
    CR_MONITOR_CTYPE: 'tcp-check',
    CR_MONITOR_ID: 'mon-7',
    CR_MONITOR_NAME: "web's \"front\" $(touch pwned)",
    CR_PREVIOUS_STATUS: 'healthy',
    CR_REACTION_ID: 'rea-3',
    CR_REACTION_NAME: 'restart web',
    CR_STATUS: 'failed',
    CR_ZONE: 'eu',
  });
});

test('template fields in command reach the shell only as quoted variables, never as code', async () => {
  const out = join(dir, 'name.txt');
  assert.is(await react({ command: `cd ${dir} && printf '%s|' {{monitor.name}} "x {{status}} y" > ${out}` }), 'ran');
  assert.is(readFileSync(out, 'utf8'), `web's "front" $(touch pwned)|x failed y|`);
  assert.not.ok(readdirSync(dir).includes('pwned'), 'the value was not run');
});

test('argv elements are filled in as plain text, without a shell', async () => {
  const out = join(dir, 'argv.txt');
  assert.is(await react({ argv: ['/bin/sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', 'restart {{monitor.name}} in {{zone}}', out] }), 'ran');
  assert.is(readFileSync(out, 'utf8'), `restart web's "front" $(touch pwned) in eu`);
});

test('another exit status is failed, logged with the code and output tail', async () => {
  assert.is(await react({ command: 'echo "unit nginx not found" >&2; exit 5' }), 'failed');
  const log = lastLog();
  assert.is(log.msg, 'execute-shell-command reaction "restart web": exit status 5: unit nginx not found');
  assert.is(log.exitCode, 5);
  assert.is(log.monitorId, 'mon-7');
  assert.is(log.reactionId, 'rea-3');
  assert.is(lastMessage(), 'exit status 5: unit nginx not found');
  assert.is(await react({ command: 'exit 5', okCodes: [5] }), 'ran');
});

test('the message is the exit status and the last line of stderr, cut to 300 characters; the log keeps the tail', async () => {
  assert.is(await react({ command: `echo "Job for nginx.service failed." >&2; echo "See 'journalctl -xe' for details." >&2; exit 3` }), 'failed');
  assert.is(lastMessage(), "exit status 3: See 'journalctl -xe' for details.");
  assert.match(String(lastLog().msg), "exit status 3: Job for nginx.service failed. See 'journalctl -xe' for details.");
  assert.is(await react({ command: 'printf "%0500d" 0 | tr 0 x >&2; echo " the end" >&2; exit 1' }), 'failed');
  assert.is(lastMessage().length, 300);
  assert.match(lastMessage(), /^exit status 1: x+…x+ the end$/);
  assert.is(await react({ command: 'echo "only stdout"; exit 2' }), 'failed');
  assert.is(lastMessage(), 'exit status 2: only stdout');
});

test('the signal kills the whole process group: failed, logged as timed out', async () => {
  const tag = `10.${randomInt(1e8, 1e9)}`;
  const started = Date.now();
  assert.is(await react({ command: `sleep ${tag}; true` }, 300), 'failed');
  const took = Date.now() - started;
  assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  assert.match(String(lastLog().msg), /timed out after \d+ ms \(process group killed\)/);
  assert.match(lastMessage(), /^timed out after \d+ ms \(process group killed\)$/);
  await until(() => pidsWith(tag).length === 0, 1000);
});

test('neither command nor argv: failed with the reason logged', async () => {
  assert.is(await react({}), 'failed');
  assert.match(String(lastLog().msg), 'exactly one of data.command');
  assert.match(lastMessage(), /^exactly one of data\.command/);
});

test('dry run: nothing runs; the message has the shell line or argv, the sink\'s machine and the variables the line uses', async () => {
  const marker = join(dir, 'dry-run-marker');
  const log = memoryLog();
  assertDryRun(await mod.react(event({ command: `touch ${marker} && echo {{monitor.name}} {{status}}` }), dryRunCtx(log)), [
    `would run /bin/sh -c 'touch ${marker} && echo "\${CR_MONITOR_NAME}" "\${CR_STATUS}"' on the sink's machine with CR_MONITOR_NAME="web's \\"front\\" $(touch pwned)", CR_STATUS="failed"`,
  ], []);
  assertDryRun(await mod.react(event({ argv: ['/usr/bin/touch', `${marker}-{{zone}}`] }), dryRunCtx(log)), [`would run argv ["/usr/bin/touch","${marker}-eu"] on the sink's machine`], []);
  // Data that cannot run is decided as for real: failed.
  assert.is(outcomeOf(await mod.react(event({}), dryRunCtx(log))), 'failed');
  await new Promise((r) => setTimeout(r, 200));
  assert.not.ok(existsSync(marker) || existsSync(`${marker}-eu`), 'the command ran in a dry run');
  assert.not.ok(existsSync(join(process.cwd(), 'pwned')));
  assert.is(log.lines.length, 1, 'only the data problem is logged');
  assert.match(String(log.lines[0]!.msg), 'exactly one of data.command');
  assert.is(mod.meta.dryRun, true);
});

test.run();

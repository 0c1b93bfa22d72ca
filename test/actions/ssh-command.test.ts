import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventEnv } from '../../actions/_shared/command.js';
import { closeSshConnections } from '../../plugin-support/ssh-connection.js';
import { reactionLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import { templateProblems } from '../../src/core/template.js';
import type { ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { closedPort, until } from '../helpers/peers.js';
import { pidsWith } from '../helpers/procs.js';
import { Sshd } from '../helpers/sshd.js';
import { assertDryRun, dryRunCtx, lastMessage, outcomeOf } from './_recorder.js';

const sshd = new Sshd();
let mod: ReactionModule;
test.before(async () => {
  await sshd.start();
  mod = await reactionLoader().load('ssh-command');
});
test.after(async () => {
  closeSshConnections();
  await sshd.close();
});

const logs: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
const lastLog = () => logs[logs.length - 1]!;
const ssh = (extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: sshd.port, user: 'root', key: sshd.client.private, hostKey: sshd.hostKey, ...extra });

function event(data: Record<string, unknown>): ReactionEvent {
  return {
    monitor: { id: 'mon-7', name: "web's \"front\" $(touch pwned) `touch pwned2`", ctype: 'http-get-statuscode' },
    reaction: { id: 'rea-3', name: 'restart web', rtype: 'ssh-command', data: { ssh: ssh(), ...data } },
    status: 'failed',
    previousStatus: 'healthy',
    failcount: 3,
    zone: 'eu',
    checkedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    message: 'status 502, want 200',
  };
}
const react = async (data: Record<string, unknown>, ms = 5000) => outcomeOf(await mod.react(event(data), { signal: AbortSignal.timeout(ms), logger }));

test('schema: ssh is required and checked, unknown template fields are refused', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { command: 'x' }).join(), 'data.ssh is required');
  assert.match(validate(f, { command: 'x', ssh: ssh({ hostKey: 'SHA256:short' }) }).join(), 'data.ssh.hostKey must match');
  assert.match(validate(f, { command: 'x', ssh: ssh({ port: 70000 }) }).join(), 'data.ssh.port must be <= 65535');
  assert.match(validate(f, { command: 'x', ssh: { ...ssh(), user: undefined } }).join(), 'data.ssh.user is required');
  assert.match(validate(f, { argv: 'systemctl', ssh: ssh() }).join(), 'data.argv must be an array');
  assert.match(templateProblems(f, { command: 'echo {{monitor.nam}}', ssh: ssh() }).join(), 'data.command uses unknown template field {{monitor.nam}}');
  assert.equal(validate(f, { ssh: ssh() }), ['data must set exactly one of command, argv (it sets none)']);
  assert.equal(validate(f, { command: 'x', ssh: ssh({ password: 'x' }) }), ['data.ssh must set exactly one of key, password (it sets key and password)']);
  assert.equal(validate(f, { command: 'systemctl restart nginx', ssh: ssh(), okCodes: [0], timeoutMs: 1000 }), []);
  assert.ok(f.properties!.ssh!.secret);
  assert.is(mod.meta.kind, 'fix');
});

test('restarts "a service": the event arrives as CR_* variables, a monitor name with shell syntax is not run', async () => {
  const out = join(sshd.dir, 'restarted.txt');
  const outcome = await react({ command: `cd ${sshd.dir} && printf '%s|' {{monitor.name}} "$CR_STATUS" "{{zone}}/{{failcount}}" "$CR_MESSAGE" > ${out}` });
  assert.is(outcome, 'ran', JSON.stringify(lastLog()));
  assert.is(readFileSync(out, 'utf8'), "web's \"front\" $(touch pwned) `touch pwned2`|failed|eu/3|status 502, want 200|");
  assert.not.ok(existsSync(join(sshd.dir, 'pwned')) || existsSync(join(sshd.dir, 'pwned2')), 'the name was not run');
  const log = lastLog();
  assert.is(log.msg, `ssh-command reaction "restart web": exit status 0 over SSH to root@127.0.0.1:${sshd.port}`);
  assert.is(log.monitorId, 'mon-7');
  assert.is(log.reactionId, 'rea-3');
  assert.is(log.exitCode, 0);
});

test('every CR_* variable reaches the remote command, as on the local machine', async () => {
  const out = join(sshd.dir, 'env.txt');
  assert.is(await react({ command: `env | grep ^CR_ | sort > ${out}` }), 'ran');
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  // Names and values are pinned in execute-shell-command.test; here they must be the same ones.
  assert.equal(lines, Object.entries(eventEnv(event({}))).map(([k, v]) => `${k}=${v}`).sort());
  assert.ok(lines.includes("CR_MONITOR_NAME=web's \"front\" $(touch pwned) `touch pwned2`"));
});

test('argv is quoted for the remote shell, elements filled in as plain text', async () => {
  const out = join(sshd.dir, 'argv.txt');
  assert.is(await react({ argv: ['/bin/sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', 'restart {{monitor.name}} in {{zone}}', out] }), 'ran');
  assert.is(readFileSync(out, 'utf8'), "restart web's \"front\" $(touch pwned) `touch pwned2` in eu");
});

test('another exit status is failed, logged with the code and output tail, and no secret', async () => {
  assert.is(await react({ command: 'echo "Failed to restart nginx.service: Unit not found." >&2; exit 5' }), 'failed');
  const log = lastLog();
  assert.is(log.msg, `ssh-command reaction "restart web": exit status 5: Failed to restart nginx.service: Unit not found. over SSH to root@127.0.0.1:${sshd.port}`);
  assert.is(log.exitCode, 5);
  assert.is(log.monitorId, 'mon-7');
  assert.is(log.reactionId, 'rea-3');
  assert.not.match(JSON.stringify(logs), 'PRIVATE KEY');
  assert.is(lastMessage(), `exit status 5: Failed to restart nginx.service: Unit not found. over SSH to root@127.0.0.1:${sshd.port}`);
  assert.is(await react({ command: 'exit 5', okCodes: [5] }), 'ran');
});

test('timeoutMs kills the remote process group: failed, logged as timed out', async () => {
  const tag = `10.${randomInt(1e8, 1e9)}`;
  const started = Date.now();
  assert.is(await react({ command: `sleep ${tag}; true`, timeoutMs: 400 }), 'failed');
  const took = Date.now() - started;
  assert.ok(took >= 380 && took < 2000, `took ${took} ms`);
  assert.match(String(lastLog().msg), /timed out after \d+ ms \(process group killed\)/);
  await until(() => pidsWith(tag).length === 0, 2000);
});

test('an unreachable host, a rejected key or unusable ssh data: failed with the reason logged', async () => {
  const port = await closedPort();
  assert.is(await react({ command: 'true', ssh: ssh({ port }) }, 3000), 'failed');
  assert.is(lastLog().msg, `ssh-command reaction "restart web": connection refused by 127.0.0.1:${port}: no SSH server listens there`);
  assert.is(lastMessage(), `connection refused by 127.0.0.1:${port}: no SSH server listens there`);
  assert.is(lastLog().monitorId, 'mon-7');
  assert.is(await react({ command: 'true', ssh: ssh({ key: sshd.stranger.private }) }), 'failed');
  assert.is(lastLog().msg, `ssh-command reaction "restart web": SSH authentication as root@127.0.0.1:${sshd.port} was rejected: check data.ssh.key`);
  assert.is(lastMessage(), `SSH authentication as root@127.0.0.1:${sshd.port} was rejected: check data.ssh.key`);
  // A secret of data.ssh that the output repeats (here the key's passphrase, which an unencrypted key ignores): masked.
  assert.is(await react({ command: 'echo "unlocked with hunter2-secret, then failed" >&2; exit 1', ssh: ssh({ passphrase: 'hunter2-secret' }) }), 'failed');
  assert.is(lastMessage(), `exit status 1: unlocked with ***, then failed over SSH to root@127.0.0.1:${sshd.port}`);
  assert.is(await react({ command: 'true', ssh: ssh({ password: 'x' }) }), 'failed');
  assert.is(lastLog().msg, 'ssh-command reaction "restart web": data.ssh needs exactly one of key or password, not both');
  assert.is(await react({}), 'failed');
  assert.match(String(lastLog().msg), 'exactly one of data.command');
  assert.not.match(JSON.stringify(logs), 'PRIVATE KEY');
});

test('dry run: no SSH connection, nothing runs; the message has the command line and user@host:port, never the key or password', async () => {
  // No pooled connection to reuse: a run would have to connect, and sshd would log it.
  closeSshConnections();
  await new Promise((r) => setTimeout(r, 200));
  const before = sshd.connections();
  const marker = join(sshd.dir, `dry-${randomInt(1e8, 1e9)}`);
  const log = memoryLog();
  const r = await mod.react(event({ command: `touch ${marker} {{monitor.name}}` }), dryRunCtx(log));
  assertDryRun(r, [
    `would run /bin/sh -c 'touch ${marker} "\${CR_MONITOR_NAME}"' over SSH to root@127.0.0.1:${sshd.port} with CR_MONITOR_NAME="web's \\"front\\" $(touch pwned) \`touch pwned2\`"`,
  ], [sshd.client.private]);
  assert.not.match(lastMessage(), 'PRIVATE KEY');
  const withPassword = { ...ssh(), key: undefined, password: 'hunter2-secret' };
  assertDryRun(await mod.react({ ...event({ argv: ['systemctl', 'restart', 'nginx'] }), reaction: { ...event({}).reaction, data: { ssh: withPassword, argv: ['systemctl', 'restart', '{{zone}}-nginx'] } } }, dryRunCtx(log)), [
    `would run argv ["systemctl","restart","eu-nginx"] over SSH to root@127.0.0.1:${sshd.port}`,
  ], []);
  assert.not.match(lastMessage(), 'hunter2-secret');
  // Unusable ssh data is decided as for real: failed.
  assert.is(outcomeOf(await mod.react(event({ command: 'true', ssh: ssh({ password: 'x' }) }), dryRunCtx(log))), 'failed');
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(existsSync(marker), 'the command ran in a dry run');
  assert.is(sshd.connections(), before, 'sshd accepted a connection in a dry run');
  // The same command for real connects (counted once sshd logs it) and creates the marker.
  assert.is(outcomeOf(await mod.react(event({ command: `touch ${marker}` }), { signal: AbortSignal.timeout(5000), logger })), 'ran');
  assert.ok(existsSync(marker));
  await until(() => sshd.connections() > before, 2000);
  assert.equal(log.lines.map((l) => l.msg), ['ssh-command reaction "restart web": data.ssh needs exactly one of key or password, not both'], 'only the data problem is logged');
  assert.is(mod.meta.dryRun, true);
});

test.run();

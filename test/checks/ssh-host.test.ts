import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSshConnections, sshConnectionCount } from '../../plugin-support/ssh-connection.js';
import { sshField, sshHost, type SshHost } from '../../plugin-support/ssh-host.js';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule, CheckResult } from '../../src/core/types.js';
import { closedPort, ctx, job, silentPeer, until, type Peer } from '../helpers/peers.js';
import { pidsWith } from '../helpers/procs.js';
import { Sshd } from '../helpers/sshd.js';

const sshd = new Sshd();
const mods: Record<string, CheckModule> = {};
let where = '';
test.before(async () => {
  await sshd.start();
  where = ` over SSH to root@127.0.0.1:${sshd.port}`;
  for (const c of ['load-average', 'free-memory', 'filesystem-usage', 'cpu-idle', 'process-running', 'execute-shell-command']) mods[c] = await checkLoader().load(c);
});
test.after(async () => {
  closeSshConnections();
  await sshd.close();
});

const ssh = (extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: sshd.port, user: 'root', key: sshd.client.private, ...extra });
const run = (ctype: string, data: Record<string, unknown>, ms = 5000): Promise<CheckResult> => mods[ctype]!.check(job(ctype, data, ms), ctx(ms));
const remote = (ctype: string, data: Record<string, unknown>, extra?: Record<string, unknown>, ms?: number) => run(ctype, { ...data, ssh: ssh(extra) }, ms);
test('the ssh field: schema rejects a bad hostKey, port or unknown key, naming the field', () => {
  const f = mods['load-average']!.meta.fields;
  assert.ok(f.properties!.ssh!.secret, 'ssh is stored encrypted');
  assert.match(validate(f, { ssh: ssh({ hostKey: 'MD5:ab:cd' }) }).join(), 'data.ssh.hostKey must match');
  assert.match(validate(f, { ssh: ssh({ hostKey: sshd.hostKey + 'x' }) }).join(), 'data.ssh.hostKey must match');
  assert.match(validate(f, { ssh: ssh({ port: 0 }) }).join(), 'data.ssh.port must be >= 1');
  assert.match(validate(f, { ssh: ssh({ identity: 'x' }) }).join(), 'data.ssh.identity is not a known field');
  assert.match(validate(f, { ssh: { host: 'h', key: sshd.client.private } }).join(), 'data.ssh.user is required');
  assert.match(validate(f, { ssh: ssh({ key: 'not a key' }) }).join(), 'data.ssh.key must match');
  assert.equal(validate(f, { ssh: ssh({ password: 'x' }) }), ['data.ssh must set exactly one of key, password (it sets key and password)']);
  assert.equal(validate(f, { ssh: { host: 'h', user: 'root' } }), ['data.ssh must set exactly one of key, password (it sets none)']);
  assert.equal(validate(f, { ssh: { host: 'h', user: 'root', password: 'x', passphrase: 'y' } }), ['data.ssh.key is required when data.ssh.passphrase is set']);
  assert.equal(validate(f, { ssh: ssh({ hostKey: sshd.hostKey }) }), []);
  for (const c of Object.keys(mods)) assert.is(mods[c]!.meta.fields.properties!.ssh, sshField, `${c} shares the ssh schema`);
});

test('both key and password, or neither, in data saved before the schema said so: unknown, saying so', async () => {
  const both = await remote('load-average', {}, { password: 'x' });
  assert.is(both.status, 'unknown');
  assert.is(both.message, 'monitor "test load-average": data.ssh needs exactly one of key or password, not both');
  const neither = await run('load-average', { ssh: { host: '127.0.0.1', port: sshd.port, user: 'root' } });
  assert.is(neither.status, 'unknown');
  assert.match(neither.message!, 'data.ssh needs exactly one of key or password, got neither');
});

test('load-average over SSH counts the remote cores and names the host', async () => {
  const r = await remote('load-average', { perCore: true, max1: 1000 });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.cores, cpus().length);
  assert.ok(r.message!.endsWith(where), r.message);
  const over = await remote('load-average', { max15: 0 }, {});
  if (over.metrics!.load15! > 0) {
    assert.is(over.status, 'failed');
    assert.match(over.message!, `is over max15 0${where}`);
  }
});

test('free-memory over SSH reads the same machine as here', async () => {
  const [r, local] = await Promise.all([remote('free-memory', { minMb: 1 }), run('free-memory', { minMb: 1 })]);
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.totalMb, local.metrics!.totalMb);
  assert.match(r.message!, where);
});

test('filesystem-usage of / over SSH equals the local statfs', async () => {
  const [r, local] = await Promise.all([remote('filesystem-usage', { maxPercent: 100 }), run('filesystem-usage', { maxPercent: 100 })]);
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.totalMb, local.metrics!.totalMb);
  assert.ok(Math.abs(r.metrics!.usedPercent! - local.metrics!.usedPercent!) <= 0.2, `${r.metrics!.usedPercent} vs ${local.metrics!.usedPercent}`);
  const missing = await remote('filesystem-usage', { path: "/no/such dir's", maxPercent: 90 });
  assert.is(missing.status, 'failed');
  assert.match(missing.message!, `cannot measure /no/such dir's on root@127.0.0.1:${sshd.port} over SSH: `);
  assert.match(missing.message!, 'No such file or directory');
});

test('cpu-idle over SSH samples the remote /proc/stat', async () => {
  const r = await remote('cpu-idle', { minIdlePercent: 0, sampleMs: 100 });
  assert.is(r.status, 'healthy', r.message);
  assert.ok(r.metrics!.idlePercent! >= 0 && r.metrics!.idlePercent! <= 100);
  assert.match(r.message!, `over 100 ms${where}`);
});

test('process-running over SSH finds the sshd itself, by name and by its command line, and never its own listing', async () => {
  const byLine = await remote('process-running', { pattern: `sshd -D -e -f ${sshd.dir}`, name: 'sshd' });
  assert.is(byLine.status, 'healthy', byLine.message);
  assert.ok(byLine.metrics!.count! >= 1);
  const lister = await remote('process-running', { pattern: "grep -aH  ?'?'?" });
  assert.is(lister.metrics!.count, 0, lister.message);
  const none = await remote('process-running', { name: 'no-such-daemon' });
  assert.is(none.status, 'failed');
  assert.is(none.message, `0 processes named "no-such-daemon"${where}; want at least 1`);
});

test('an RSA key with a passphrase logs in; a wrong passphrase says the key cannot be used', async () => {
  const ok = await remote('load-average', {}, { key: sshd.rsaClient.private, passphrase: sshd.rsaPassphrase });
  assert.is(ok.status, 'healthy', ok.message);
  const bad = await remote('load-average', {}, { key: sshd.rsaClient.private, passphrase: 'wrong' });
  assert.is(bad.status, 'unknown');
  assert.match(bad.message!, /^data\.ssh\.key cannot be used: .*\(check data\.ssh\.passphrase\)$/);
});

test('connections are reused: many checks to one target make one TCP connection', async () => {
  closeSshConnections();
  await until(() => sshConnectionCount() === 0);
  const before = sshd.connections();
  const results = await Promise.all(
    Array.from({ length: 4 }, () => [
      remote('load-average', {}),
      remote('free-memory', { minPercent: 1 }),
      remote('filesystem-usage', { maxPercent: 100 }),
      remote('process-running', { name: 'sshd' }),
      remote('execute-shell-command', { command: 'true' }),
    ]).flat(),
  );
  for (let i = 0; i < 10; i++) results.push(await remote('load-average', { perCore: true }));
  for (const r of results) assert.is(r.status, 'healthy', r.message);
  assert.is(sshd.connections() - before, 1, sshd.log.slice(-2000));
  assert.is(sshConnectionCount(), 1);
  // Another user or key is another connection.
  await remote('load-average', {}, { key: sshd.rsaClient.private, passphrase: sshd.rsaPassphrase });
  assert.is(sshConnectionCount(), 2);
});

/** Runs load-average over SSH to `port` in a child process with a `signalMs` deadline; its output, exit code and run time. */
async function checkInChild(port: number, signalMs: number): Promise<{ out: string; exit: number | null; took: number }> {
  const module = fileURLToPath(new URL('../../checks/load-average/index.js', import.meta.url));
  const code =
    `const m = await import(${JSON.stringify(module)});` +
    `const r = await m.check({ monitorId: 'm', name: 'n', ctype: 'load-average', zone: 'z', timeoutMs: 5000, data: { ssh: ${JSON.stringify(ssh({ port }))} } }, { signal: AbortSignal.timeout(${signalMs}) });` +
    'console.log(r.status);';
  const started = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const exit = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (c) => (clearTimeout(t), resolve(c)));
  });
  return { out: out.trim(), exit, took: Date.now() - started };
}

test('an idle pooled connection does not keep a process alive', async () => {
  const r = await checkInChild(sshd.port, 5000);
  assert.is(r.out, 'healthy');
  assert.is(r.exit, 0);
  assert.ok(r.took < 5000, `exited after ${r.took} ms`);
});

test('a handshake that completes after the check gave up does not keep the process alive', async () => {
  // A TCP proxy to sshd that holds each connection 300 ms before passing bytes on.
  const proxy = createServer((client) => {
    client.pause();
    setTimeout(() => {
      const server = connect(sshd.port, '127.0.0.1');
      client.pipe(server).pipe(client);
      client.resume();
      server.on('error', () => client.destroy());
      client.on('error', () => server.destroy());
      client.on('close', () => server.destroy());
    }, 300);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const logins = () => sshd.log.match(/Accepted publickey for root/g)?.length ?? 0;
    const before = logins();
    const r = await checkInChild((proxy.address() as { port: number }).port, 100);
    assert.is(r.out, 'unknown');
    assert.is(r.exit, 0);
    assert.ok(r.took < 5000, `exited after ${r.took} ms`);
    assert.is(logins() - before, 1, 'the handshake completed after the deadline');
  } finally {
    proxy.close();
  }
});

test('a question that hangs past its deadline ends only its own command: other checks on the connection go on', async () => {
  await remote('load-average', {});
  const before = sshd.connections();
  const pooled = sshConnectionCount();
  const tag = randomInt(1e8, 1e9);
  const fifo = join(tmpdir(), `cr-hung-${tag}`);
  execFileSync('mkfifo', [fifo]);
  try {
    // cat blocks opening a FIFO nobody writes, as stat -f does on a hung mount.
    const hung = (sshHost(ssh(), AbortSignal.timeout(300), 5000) as SshHost).readText(fifo).then(
      () => new Error('a FIFO without a writer gave text'),
      (err: Error) => err,
    );
    const other = remote('execute-shell-command', { command: 'sleep 0.35; echo done' });
    const err = await hung;
    assert.match(err.message, new RegExp(`^timed out after \\d+ ms reading ${fifo} over SSH to root@127\\.0\\.0\\.1:${sshd.port}$`));
    const r = await other;
    assert.is(r.status, 'healthy', r.message);
    assert.is(r.message, `exit status 0: done${where}`);
    await until(() => pidsWith(fifo).length === 0, 2000);
    assert.is((await remote('load-average', {})).status, 'healthy');
    assert.is(sshConnectionCount(), pooled);
    assert.is(sshd.connections(), before, 'the connection stayed pooled');
  } finally {
    rmSync(fifo, { force: true });
  }
});

test('a key the server does not know: unknown, authentication rejected', async () => {
  const r = await remote('free-memory', { minMb: 1 }, { key: sshd.stranger.private });
  assert.is(r.status, 'unknown');
  assert.is(r.message, `SSH authentication as root@127.0.0.1:${sshd.port} was rejected: check data.ssh.key`);
});

test('a wrong password: unknown, authentication rejected', async () => {
  const r = await run('free-memory', { minMb: 1, ssh: { host: '127.0.0.1', port: sshd.port, user: 'root', password: 'not-the-password' } });
  assert.is(r.status, 'unknown');
  assert.is(r.message, `SSH authentication as root@127.0.0.1:${sshd.port} was rejected: check data.ssh.password`);
});

test('hostKey: the right fingerprint passes, another one fails naming both', async () => {
  const ok = await remote('load-average', {}, { hostKey: sshd.hostKey });
  assert.is(ok.status, 'healthy', ok.message);
  const pinned = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
  const r = await remote('load-average', {}, { hostKey: pinned });
  assert.is(r.status, 'failed');
  assert.is(r.message, `the SSH host key of 127.0.0.1:${sshd.port} is ${sshd.hostKey}, not data.ssh.hostKey ${pinned}: the machine was replaced or someone is in between`);
});

test('nothing listening: unknown, connection refused, quickly', async () => {
  const port = await closedPort();
  const started = Date.now();
  const r = await run('load-average', { ssh: { ...ssh(), port } });
  assert.is(r.status, 'unknown');
  assert.is(r.message, `connection refused by 127.0.0.1:${port}: no SSH server listens there`);
  assert.ok(Date.now() - started < 1000);
});

test('a server that accepts but never speaks SSH: unknown, timed out within the limit', async () => {
  const peer: Peer = await silentPeer();
  try {
    const started = Date.now();
    const r = await run('process-running', { name: 'x', ssh: { ...ssh(), port: peer.port } }, 600);
    const took = Date.now() - started;
    assert.is(r.status, 'unknown');
    assert.match(r.message!, new RegExp(`^timed out after \\d+ ms connecting over SSH to root@127\\.0\\.0\\.1:${peer.port}$`));
    assert.ok(took >= 550 && took < 1200, `took ${took} ms`);
  } finally {
    await peer.close();
  }
});

test('sshd stopped under a running command: unknown, connection lost; while down refused; once back the next check reconnects', async () => {
  assert.is((await remote('load-average', {})).status, 'healthy');
  const tag = `5.${randomInt(1e8, 1e9)}`;
  const running = remote('execute-shell-command', { command: `sleep ${tag}` });
  await new Promise((r) => setTimeout(r, 300));
  await sshd.stop();
  const cut = await running;
  // Without a terminal the remote command outlives its session, as with any SSH client.
  for (const pid of pidsWith(tag)) process.kill(Number(pid), 'SIGKILL');
  assert.is(cut.status, 'unknown');
  assert.match(cut.message!, `the SSH connection to 127.0.0.1:${sshd.port} was lost`);
  const down = await remote('load-average', {});
  assert.is(down.status, 'unknown');
  assert.match(down.message!, /connection refused|lost|closed/);
  await sshd.start();
  const back = await remote('load-average', {});
  assert.is(back.status, 'healthy', back.message);
});

test('execute-shell-command over SSH: exit 0 healthy, exit 3 failed with its output, okCodes, argv', async () => {
  const ok = await remote('execute-shell-command', { command: 'test "$(id -u)" = 0 && echo fine' });
  assert.is(ok.status, 'healthy', ok.message);
  assert.is(ok.message, `exit status 0: fine${where}`);
  const three = await remote('execute-shell-command', { command: 'echo "unit nginx is down" >&2; exit 3' });
  assert.is(three.status, 'failed');
  assert.is(three.message, `exit status 3: unit nginx is down${where}`);
  assert.is(three.metrics!.exitCode, 3);
  assert.is((await remote('execute-shell-command', { command: 'exit 3', okCodes: [0, 3] })).status, 'healthy');
  const argv = await remote('execute-shell-command', { argv: ['printf', '%s|', "it's", '$(id)', 'a b'] });
  assert.is(argv.message, `exit status 0: it's|$(id)|a b|${where}`);
});

test('execute-shell-command over SSH at the time limit: failed as timed out, the remote processes killed', async () => {
  const tag = `10.${randomInt(1e8, 1e9)}`;
  const started = Date.now();
  const r = await remote('execute-shell-command', { command: `sleep ${tag} & sleep ${tag}; true`, timeoutMs: 500 }, {}, 5000);
  const took = Date.now() - started;
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^timed out after \d+ ms \(process group killed\)/);
  assert.ok(took >= 480 && took < 2000, `took ${took} ms`);
  await until(() => pidsWith(tag).length === 0, 2000);
  // The connection is still good.
  assert.is((await remote('execute-shell-command', { command: 'true' })).status, 'healthy');
});

test.run();

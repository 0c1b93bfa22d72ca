import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import { templateProblems } from '../../src/core/template.js';
import type { ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { closedPort, silentPeer } from '../helpers/peers.js';
import { assertDryRun, dryRunCtx, lastMessage, outcomeOf, sampleEvent } from './_recorder.js';

interface Mail {
  mailFrom: string;
  rcptTo: string[];
  user: string | undefined;
  secure: boolean;
  raw: string;
}

let mod: ReactionModule;
let received: Mail[] = [];
/** SMTP connections the test servers accepted. */
let connects = 0;

/** A real SMTP server on a free port of 127.0.0.1 that takes login alerts / s3cret and refuses mail to nobody@example.com. */
async function smtp(options: SMTPServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    onConnect(_session, cb) {
      connects++;
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === 's3cret') cb(null, { user: auth.username });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      if (address.address === 'nobody@example.com') cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      else cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          raw,
        });
        cb();
      });
    },
    logger: false,
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The header `name` and the decoded text body of a raw message. */
function parse(raw: string): { header(name: string): string | undefined; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  let body = raw.slice(split + 4);
  if (/content-transfer-encoding: quoted-printable/i.test(head)) {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1];
  return { header, body: body.replace(/\r\n/g, '\n').replace(/\n$/, '') };
}

let plain: { port: number; close(): Promise<void> };

test.before(async () => {
  mod = await reactionLoader().load('email');
  plain = await smtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
});
test.after(() => plain.close());
test.before.each(() => {
  received = [];
});

const base = () => ({ host: '127.0.0.1', port: plain.port, security: 'none', user: 'alerts', password: 's3cret', from: 'CloudRoutes <alerts@example.com>', to: ['ops@example.com', 'dev@example.com'] });
const ctx = () => ({ signal: AbortSignal.timeout(5000), logger: memoryLog().logger });

test('schema rejects bad data naming the field; the password is secret; subject and body are checked templates', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.host is required', 'data.from is required', 'data.to is required']);
  assert.match(validate(f, { ...base(), to: 'ops@example.com' }).join(), 'data.to must be an array');
  assert.match(validate(f, { ...base(), to: ['ops at example'] }).join(), 'data.to[0] must match');
  assert.match(validate(f, { ...base(), security: 'ssl' }).join(), 'data.security must be one of "tls", "starttls", "none"');
  assert.match(validate(f, { ...base(), port: 70000 }).join(), 'data.port must be <= 65535');
  assert.equal(validate(f, base()), []);
  assert.equal(secretFields(f), ['password']);
  assert.is(mod.meta.kind, 'notify');
  assert.match(templateProblems(f, { ...base(), subject: '{{monitor.nmae}}', body: '{{stauts}}' }).join('\n'), /data\.subject uses unknown template field \{\{monitor\.nmae\}\}.*\n.*data\.body uses unknown template field \{\{stauts\}\}/);
});

test('logs in and sends the rendered subject and body to every recipient', async () => {
  const data = { ...base(), subject: '{{monitor.name}} {{status}} in {{zone}}', body: 'Failures: {{failcount}}\n{{message}}\nat {{checkedAt}}' };
  assert.is(outcomeOf(await mod.react(sampleEvent('email', data), ctx())), 'ran');
  assert.is(received.length, 1);
  const mail = received[0]!;
  assert.is(mail.user, 'alerts');
  assert.is(mail.mailFrom, 'alerts@example.com');
  assert.equal(mail.rcptTo, ['ops@example.com', 'dev@example.com']);
  const msg = parse(mail.raw);
  assert.is(msg.header('From'), 'CloudRoutes <alerts@example.com>');
  assert.is(msg.header('To'), 'ops@example.com, dev@example.com');
  assert.is(msg.header('Subject'), 'api health failed in eu-1');
  assert.is(msg.body, 'Failures: 3\ngot HTTP 503, expected 200\nat 2024-05-01T12:30:00.000Z');
});

test('the default subject and body', async () => {
  assert.is(outcomeOf(await mod.react(sampleEvent('email', base(), { status: 'healthy', previousStatus: 'failed', failcount: 0, message: 'HTTP 200' }), ctx())), 'ran');
  const msg = parse(received[0]!.raw);
  assert.is(msg.header('Subject'), '[CloudRoutes] api health is healthy');
  assert.match(msg.body, 'Monitor api health (mon-7) is healthy, was failed.');
  assert.match(msg.body, 'HTTP 200\n\n-- reaction page ops');
});

test('a wrong password means failed, logged with the SMTP error, monitor and reaction', async () => {
  const log = memoryLog();
  assert.is(outcomeOf(await mod.react(sampleEvent('email', { ...base(), password: 'wrong' }), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
  assert.is(received.length, 0);
  assert.is(log.lines[0]!.smtpCode, 'EAUTH');
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.is(log.lines[0]!.reactionId, 'rea-3');
  assert.match(String(log.lines[0]!.msg), 'Invalid username or password');
  assert.not.match(JSON.stringify(log.lines), 'wrong');
  assert.match(lastMessage(), `sending through SMTP server 127.0.0.1:${plain.port} failed: EAUTH: Invalid login: 535 Invalid username or password`);
});

test('a refused recipient means failed, the message naming the recipient and the server\'s answer', async () => {
  const log = memoryLog();
  const outcome = outcomeOf(await mod.react(sampleEvent('email', { ...base(), to: ['nobody@example.com'] }), { signal: AbortSignal.timeout(5000), logger: log.logger }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), 'No such user here');
  assert.is(lastMessage(), `SMTP server 127.0.0.1:${plain.port} refused recipient nobody@example.com: 550 No such user here`);
  // One of two refused: the others got it, and the run is failed naming the one refused.
  assert.is(outcomeOf(await mod.react(sampleEvent('email', { ...base(), to: ['ops@example.com', 'nobody@example.com'] }), ctx())), 'failed');
  assert.is(lastMessage(), `SMTP server 127.0.0.1:${plain.port} refused recipient nobody@example.com`);
});

test('starttls: upgrades before logging in; a self-signed certificate is refused unless tlsVerify is false', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cr-smtp-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const tls = await smtp({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  try {
    const data = { ...base(), port: tls.port, security: 'starttls' };
    const log = memoryLog();
    assert.is(outcomeOf(await mod.react(sampleEvent('email', data), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
    assert.match(String(log.lines[0]!.msg), /certificate/i);
    assert.is(outcomeOf(await mod.react(sampleEvent('email', { ...data, tlsVerify: false }), ctx())), 'ran');
    assert.ok(received[0]!.secure, 'the message went over TLS');
  } finally {
    await tls.close();
  }
});

test('a refused connection and a server that never greets mean failed', async () => {
  const port = await closedPort();
  const log = memoryLog();
  assert.is(outcomeOf(await mod.react(sampleEvent('email', { ...base(), port }), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
  assert.match(String(log.lines[0]!.msg), 'ECONNREFUSED');
  assert.is(lastMessage(), `sending through SMTP server 127.0.0.1:${port} failed: ESOCKET: connect ECONNREFUSED 127.0.0.1:${port}`);
  assert.not.match(lastMessage(), 's3cret');
  const silent = await silentPeer();
  try {
    const slow = memoryLog();
    const started = Date.now();
    assert.is(outcomeOf(await mod.react(sampleEvent('email', { ...base(), port: silent.port }), { signal: AbortSignal.timeout(300), logger: slow.logger })), 'failed');
    assert.ok(Date.now() - started < 1500);
    assert.match(String(slow.lines[0]!.msg), 'deadline');
  } finally {
    await silent.close();
  }
});

test('dry run: no SMTP connection; the message has the server, from, to, the rendered subject and body, the password masked', async () => {
  const before = connects;
  const data = { ...base(), subject: '{{monitor.name}} {{status}} in {{zone}}', body: 'Failures: {{failcount}}\n{{message}}' };
  // The event's message quotes the password: the body shows *** in its place.
  const event = sampleEvent('email', data, { message: 'login with s3cret refused' });
  assertDryRun(await mod.react(event, dryRunCtx()), [
    `would send an email through SMTP server 127.0.0.1:${plain.port} (no TLS, logging in as alerts) from CloudRoutes <alerts@example.com> to ops@example.com, dev@example.com with subject "api health failed in eu-1"; `,
    'body: Failures: 3\\nlogin with *** refused',
  ], ['s3cret']);
  assertDryRun(await mod.react(sampleEvent('email', { host: 'smtp.example.com', from: 'a@example.com', to: ['b@example.com'], tlsVerify: false }), dryRunCtx()), [
    'through SMTP server smtp.example.com:587 (STARTTLS required, certificate not checked, without logging in) from a@example.com to b@example.com with subject "[CloudRoutes] api health is failed"',
    'body: Monitor api health (mon-7) is failed, was healthy.\\n',
  ], []);
  assert.is(connects, before, 'no SMTP connection in a dry run');
  assert.equal(received, []);
  // The same reaction for real connects and is counted: the count above can see a connection.
  assert.is(outcomeOf(await mod.react(event, ctx())), 'ran');
  assert.is(connects, before + 1);
  assert.is(mod.meta.dryRun, true);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import type { ReactionModule } from '../../src/core/types.js';
import { memoryLog, type MemoryLog } from '../helpers/memory-log.js';
import { selfSignedHttpsPeer, silentPeer } from '../helpers/peers.js';
import { assertNetworkFailures, recorder, sampleEvent, type Answer, type Received, type Recorder } from './_recorder.js';

const USER = 'saltapi';
const PASSWORD = 'pam-pass-7f3c9a';

/** CherryPy's own error page, which salt-api sends with a 401 when eauth refuses the credentials. */
const UNAUTHORIZED =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
  '<html>\n<head>\n    <meta http-equiv="Content-Type" content="text/html; charset=utf-8"></meta>\n    <title>401 Unauthorized</title>\n</head>\n' +
  '<body>\n    <h2>401 Unauthorized</h2>\n    <p>No permission -- see authorization schemes</p>\n</body>\n</html>\n';

/** salt-api's /run: 401 unless the lowstate carries the known user, password and eauth; else the answer the test set. */
function saltApi(got: Received): Answer | undefined {
  try {
    const [chunk] = JSON.parse(got.body) as Record<string, unknown>[];
    if (chunk?.username === USER && chunk.password === PASSWORD && chunk.eauth === 'pam') return undefined;
  } catch {
    return { status: 400, body: { status: 400, return: 'Invalid JSON document' } };
  }
  return { status: 401, body: UNAUTHORIZED, headers: { 'content-type': 'text/html;charset=utf-8' } };
}

/** A state.apply return for one minion: each state id with its result and comment. */
function stateRun(results: [string, boolean, string][]): Record<string, unknown> {
  return Object.fromEntries(
    results.map(([id, result, comment], i) => [
      `service_|-${id}_|-nginx_|-running`,
      { name: 'nginx', changes: {}, result, comment, __sls__: 'nginx', __run_num__: i, start_time: '12:30:01.118', duration: 41.2, __id__: id },
    ]),
  );
}

let rec: Recorder;
test.before(async () => {
  rec = await recorder();
  rec.answerFor = (got) => saltApi(got) ?? rec.answer;
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
});

const data = (over: Record<string, unknown> = {}) => ({ url: rec.peer.url, username: USER, password: PASSWORD, tgt: 'web*', fun: 'service.restart', arg: ['nginx'], ...over });
const load = (): Promise<ReactionModule> => reactionLoader().load('saltstack');

async function run(d: Record<string, unknown>, ms = 5000): Promise<{ outcome: string; log: MemoryLog }> {
  const log = memoryLog();
  const outcome = await (await load()).react(sampleEvent('saltstack', d), { signal: AbortSignal.timeout(ms), logger: log.logger });
  assert.not.match(JSON.stringify(log.lines), PASSWORD);
  return { outcome, log };
}

/** Asserts one POST /run as salt-api documents it, with `lowstate` as the JSON body. */
function assertRun(lowstate: Record<string, unknown>): void {
  assert.is(rec.received.length, 1);
  const got = rec.received[0]!;
  assert.is(got.method, 'POST');
  assert.is(got.url, '/run');
  assert.is(got.headers.accept, 'application/json');
  assert.is(got.headers['content-type'], 'application/json');
  assert.is(got.headers['x-auth-token'], undefined);
  assert.equal(JSON.parse(got.body), [lowstate]);
}

const creds = { username: USER, password: PASSWORD, eauth: 'pam' };

test('schema rejects bad data naming the field; the password is secret', async () => {
  const f = (await load()).meta.fields;
  assert.equal(validate(f, data()), []);
  assert.equal(validate(f, { username: USER, password: PASSWORD, tgt: '*', fun: 'test.ping' }), ['data.url is required']);
  assert.equal(validate(f, { url: rec.peer.url, username: USER, password: PASSWORD, fun: 'test.ping' }), ['data.tgt is required']);
  assert.equal(validate(f, { url: rec.peer.url, username: USER, password: PASSWORD, tgt: '*' }), ['data must set exactly one of fun, state (it sets none)']);
  assert.equal(validate(f, { ...data(), state: 'nginx' }), ['data must set exactly one of fun, state (it sets fun and state)']);
  assert.equal(validate(f, { ...data(), fun: undefined, state: 'nginx', arg: ['x'] }), ['data.fun is required when data.arg is set']);
  assert.match(validate(f, data({ url: 'salt:8000' })).join(), 'data.url must match');
  assert.match(validate(f, data({ tgtType: 'regex' })).join(), 'data.tgtType must be one of');
  assert.match(validate(f, data({ fun: 'restart nginx' })).join(), 'data.fun must match');
  assert.match(validate(f, data({ state: 'nginx; reboot' })).join(), 'data.state must match');
  assert.match(validate(f, data({ arg: 'nginx' })).join(), 'data.arg must be an array');
  assert.match(validate(f, data({ kwarg: ['test'] })).join(), 'data.kwarg must be an object');
  assert.match(validate(f, data({ tlsVerify: 'no' })).join(), 'data.tlsVerify must be a boolean');
  assert.match(validate(f, data({ timeoutMs: 10 })).join(), 'data.timeoutMs must be >= 2000');
  assert.match(validate(f, data({ client: 'runner' })).join(), 'data.client is not a known field');
  assert.equal(secretFields(f), ['password']);
});

test('fun: one POST /run with the credentials in the lowstate; every minion returning means ran', async () => {
  rec.answer = { status: 200, body: { return: [{ web1: true, web2: true }] } };
  const { outcome, log } = await run(data());
  assert.is(outcome, 'ran');
  assertRun({ client: 'local', tgt: 'web*', tgt_type: 'glob', fun: 'service.restart', arg: ['nginx'], ...creds });
  assert.equal(log.lines[0]!.minions, ['web1', 'web2']);
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.match(String(log.lines[0]!.msg), 'service.restart succeeded on 2 minions (web1, web2)');
});

test('fun: kwarg, tgtType, eauth and timeoutMs are sent as salt names them', async () => {
  rec.answer = { status: 200, body: { return: [{ db1: { pid: 4242, retcode: 0, stdout: 'ok', stderr: '' } }] } };
  const d = data({ tgt: 'G@role:db and not db9', tgtType: 'compound', fun: 'cmd.run_all', arg: ['systemctl restart postgresql'], kwarg: { timeout: 60 }, timeoutMs: 4500 });
  assert.is((await run(d)).outcome, 'ran');
  assertRun({ client: 'local', tgt: 'G@role:db and not db9', tgt_type: 'compound', fun: 'cmd.run_all', arg: ['systemctl restart postgresql'], kwarg: { timeout: 60 }, timeout: 3, ...creds });
});

test('state: state.apply with the state name; all states true means ran', async () => {
  rec.answer = { status: 200, body: { return: [{ web1: stateRun([['nginx', true, 'Service nginx is already enabled, and is running']]) }] } };
  const { outcome } = await run(data({ fun: undefined, arg: undefined, state: 'nginx', kwarg: { pillar: { port: 8080 } } }));
  assert.is(outcome, 'ran');
  assertRun({ client: 'local', tgt: 'web*', tgt_type: 'glob', fun: 'state.apply', arg: ['nginx'], kwarg: { pillar: { port: 8080 } }, ...creds });
});

test('state: a state with result false means failed, naming the minion, the state id and its comment', async () => {
  rec.answer = {
    status: 200,
    body: { return: [{ web1: stateRun([['nginx', true, 'ok']]), web2: stateRun([['nginx', true, 'ok'], ['nginx-running', false, 'Job for nginx.service failed because the control process exited with error code.']]) }] },
  };
  const { outcome, log } = await run(data({ fun: undefined, arg: undefined, state: 'nginx' }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), 'web2: state nginx-running failed: Job for nginx.service failed');
  assert.not.match(String(log.lines[0]!.msg), 'web1');
  assert.is(log.lines[0]!.reactionId, 'rea-3');
});

test('state: a state that does not render (a list of errors) means failed', async () => {
  rec.answer = { status: 200, body: { return: [{ web1: ["No matching sls found for 'ngnix' in env 'base'"] }] } };
  const { outcome, log } = await run(data({ fun: undefined, arg: undefined, state: 'ngnix' }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), "web1: the state did not run: No matching sls found for 'ngnix'");
});

test('fun: false on a minion, an unknown function and a minion exception mean failed', async () => {
  const cases: [unknown, string, string][] = [
    [{ web1: true, web2: false }, 'service.restart', 'web2: service.restart returned false'],
    [{ web1: "'service.restartx' is not available.", web2: "'service.restartx' is not available." }, 'service.restartx', "web1: 'service.restartx' is not available."],
    [{ web1: 'The minion function caused an exception: Traceback (most recent call last): ...' }, 'service.restart', 'web1: The minion function caused an exception'],
  ];
  for (const [result, fun, words] of cases) {
    rec.answer = { status: 200, body: { return: [result] } };
    const { outcome, log } = await run(data({ fun }));
    assert.is(outcome, 'failed');
    assert.match(String(log.lines[0]!.msg), words);
    assert.is(log.lines[0]!.httpStatus, 200);
  }
});

test('no minion matched, or a listed minion did not return, means failed', async () => {
  rec.answer = { status: 200, body: { return: [{}] } };
  let r = await run(data({ tgt: 'wbe*' }));
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'no minion matched tgt "wbe*" (glob)');
  rec.answer = { status: 200, body: { return: [{ web1: true }] } };
  r = await run(data({ tgt: 'web1,web2', tgtType: 'list' }));
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'web2 did not return');
});

test('bad credentials: salt-api answers 401, which means failed; the password is never logged', async () => {
  rec.answer = { status: 200, body: { return: [{ web1: true }] } };
  const { outcome, log } = await run(data({ password: 'wrong-password' }));
  assert.is(outcome, 'failed');
  assert.is(log.lines[0]!.httpStatus, 401);
  assert.match(String(log.lines[0]!.msg), 'answered HTTP 401');
  assert.not.match(JSON.stringify(log.lines), 'wrong-password');
});

test('fun and state together, neither, or state with arg: failed before any request', async () => {
  for (const [d, words] of [
    [data({ state: 'nginx' }), 'fun and state are both set'],
    [data({ fun: undefined }), 'neither fun nor state is set'],
    [data({ fun: undefined, state: 'nginx' }), 'arg goes with fun'],
  ] as const) {
    const { outcome, log } = await run(d);
    assert.is(outcome, 'failed');
    assert.match(String(log.lines[0]!.msg), words);
  }
  assert.is(rec.received.length, 0);
});

test('a refused connection and a silent server mean failed', async () => assertNetworkFailures(await load(), (base) => sampleEvent('saltstack', data({ url: base }))));

test('timeoutMs cuts a silent server before the sink\'s deadline', async () => {
  const silent = await silentPeer();
  try {
    const started = Date.now();
    const { outcome, log } = await run(data({ url: silent.url, timeoutMs: 2000 }), 10_000);
    assert.is(outcome, 'failed');
    assert.ok(Date.now() - started < 3500, `took ${Date.now() - started} ms`);
    assert.match(String(log.lines[0]!.msg), 'deadline');
  } finally {
    await silent.close();
  }
});

test('https: a self-signed salt-api fails unless tlsVerify is false', async () => {
  const bodies: string[] = [];
  const peer = await selfSignedHttpsPeer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      bodies.push(text);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ return: [{ web1: true }] }));
    });
  });
  try {
    const refused = await run(data({ url: peer.url }));
    assert.is(refused.outcome, 'failed');
    assert.match(String(refused.log.lines[0]!.msg), /certificate/i);
    assert.is(bodies.length, 0);
    assert.is((await run(data({ url: peer.url, tlsVerify: false }))).outcome, 'ran');
    assert.is(bodies.length, 1);
  } finally {
    await peer.close();
  }
});

test.run();

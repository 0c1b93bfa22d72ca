import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import type { ReactionModule } from '../../src/core/types.js';
import { memoryLog, type MemoryLog } from '../helpers/memory-log.js';
import { selfSignedHttpsPeer, silentPeer } from '../helpers/peers.js';
import { assertDryRun, assertNetworkFailures, dryRunCtx, lastMessage, outcomeOf, recorder, sampleEvent, untouched, type Answer, type Received, type Recorder } from './_recorder.js';

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

const JID = '20240501123001118462';

/** One minion's entry when the lowstate asks for full_return: what LocalClient.cmd copies from the minion's return event. */
function full(ret: unknown, retcode = 0, out?: string): Record<string, unknown> {
  return { ret, retcode, jid: JID, ...(out ? { out } : {}) };
}

/** salt-api's 200 answer to /run: each minion's full entry, or false for a targeted minion that never answered. */
function answerRun(minions: Record<string, unknown>): Answer {
  return { status: 200, body: { return: [minions] } };
}

/** Without full_return salt-api gives each minion's ret alone, as before 2017.7; the test's answers are written with it. */
function asRequested(got: Received, answer: Answer): Answer {
  const [chunk] = JSON.parse(got.body) as Record<string, unknown>[];
  const minions = (answer.body as { return?: unknown[] })?.return?.[0];
  if (chunk?.full_return === true || typeof minions !== 'object' || minions === null) return answer;
  const plain = Object.fromEntries(Object.entries(minions).map(([m, e]) => [m, (e as { ret?: unknown } | false) === false ? false : (e as { ret: unknown }).ret]));
  return { ...answer, body: { return: [plain] } };
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
  rec.answerFor = (got) => saltApi(got) ?? asRequested(got, rec.answer);
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
});

const data = (over: Record<string, unknown> = {}) => ({ url: rec.peer.url, username: USER, password: PASSWORD, tgt: 'web*', fun: 'service.restart', arg: ['nginx'], ...over });
const load = (): Promise<ReactionModule> => reactionLoader().load('saltstack');

async function run(d: Record<string, unknown>, ms = 5000): Promise<{ outcome: string; message: string; log: MemoryLog }> {
  const log = memoryLog();
  const outcome = outcomeOf(await (await load()).react(sampleEvent('saltstack', d), { signal: AbortSignal.timeout(ms), logger: log.logger }));
  assert.not.match(JSON.stringify(log.lines), PASSWORD);
  assert.not.match(lastMessage(), PASSWORD);
  assert.ok(lastMessage().length <= 300, lastMessage());
  return { outcome, message: lastMessage(), log };
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
  assert.equal(JSON.parse(got.body), [{ ...lowstate, full_return: true }]);
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
  assert.match(validate(f, data({ url: 'salt:8000' })).join(), /data\.url (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
  assert.match(validate(f, data({ tgtType: 'regex' })).join(), 'data.tgtType must be one of');
  assert.match(validate(f, data({ fun: 'restart nginx' })).join(), 'data.fun must match');
  assert.match(validate(f, data({ state: 'nginx; reboot' })).join(), 'data.state must match');
  assert.match(validate(f, data({ arg: 'nginx' })).join(), 'data.arg must be an array');
  assert.match(validate(f, data({ kwarg: ['test'] })).join(), 'data.kwarg must be an object');
  assert.match(validate(f, data({ tlsVerify: 'no' })).join(), 'data.tlsVerify must be a boolean');
  assert.match(validate(f, data({ timeoutMs: 10 })).join(), 'data.timeoutMs must be >= 2000');
  assert.match(validate(f, data({ client: 'runner' })).join(), 'data.client is not a known field');
  assert.equal(secretFields(f), ['password']);
  assert.is((await load()).meta.kind, 'fix');
});

test('fun: one POST /run with the credentials in the lowstate; every minion returning means ran', async () => {
  rec.answer = answerRun({ web1: full(true), web2: full(true) });
  const { outcome, log } = await run(data());
  assert.is(outcome, 'ran');
  assertRun({ client: 'local', tgt: 'web*', tgt_type: 'glob', fun: 'service.restart', arg: ['nginx'], ...creds });
  assert.equal(log.lines[0]!.minions, ['web1', 'web2']);
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.match(String(log.lines[0]!.msg), 'service.restart succeeded on 2 minions (web1, web2)');
});

test('fun: kwarg, tgtType, eauth and timeoutMs are sent as salt names them', async () => {
  rec.answer = answerRun({ db1: full({ pid: 4242, retcode: 0, stdout: 'ok', stderr: '' }) });
  const d = data({ tgt: 'G@role:db and not db9', tgtType: 'compound', fun: 'cmd.run_all', arg: ['systemctl restart postgresql'], kwarg: { timeout: 60 }, timeoutMs: 4500 });
  assert.is((await run(d)).outcome, 'ran');
  assertRun({ client: 'local', tgt: 'G@role:db and not db9', tgt_type: 'compound', fun: 'cmd.run_all', arg: ['systemctl restart postgresql'], kwarg: { timeout: 60 }, timeout: 3, ...creds });
});

test('state: state.apply with the state name; all states true means ran', async () => {
  rec.answer = answerRun({ web1: full(stateRun([['nginx', true, 'Service nginx is already enabled, and is running']]), 0, 'highstate') });
  const { outcome } = await run(data({ fun: undefined, arg: undefined, state: 'nginx', kwarg: { pillar: { port: 8080 } } }));
  assert.is(outcome, 'ran');
  assertRun({ client: 'local', tgt: 'web*', tgt_type: 'glob', fun: 'state.apply', arg: ['nginx'], kwarg: { pillar: { port: 8080 } }, ...creds });
});

test('state: a state with result false means failed, naming the minion, the state id and its comment', async () => {
  rec.answer = answerRun({
    web1: full(stateRun([['nginx', true, 'ok']]), 0, 'highstate'),
    web2: full(stateRun([['nginx', true, 'ok'], ['nginx-running', false, 'Job for nginx.service failed because the control process exited with error code.']]), 2, 'highstate'),
  });
  const { outcome, message, log } = await run(data({ fun: undefined, arg: undefined, state: 'nginx' }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), 'web2: state nginx-running failed: Job for nginx.service failed because the control process exited with error code. (retcode 2)');
  assert.is(message, `POST ${rec.peer.url}/run: web2: state nginx-running failed: Job for nginx.service failed because the control process exited with error code. (retcode 2)`);
  assert.not.match(String(log.lines[0]!.msg), 'web1');
  assert.is(log.lines[0]!.reactionId, 'rea-3');
});

test('state: a state that does not render (a list of errors) means failed', async () => {
  rec.answer = answerRun({ web1: full(["No matching sls found for 'ngnix' in env 'base'"], 1, 'highstate') });
  const { outcome, log } = await run(data({ fun: undefined, arg: undefined, state: 'ngnix' }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), "web1: the state did not run: No matching sls found for 'ngnix' in env 'base' (retcode 1)");
});

test('fun: false on a minion, an unknown function and a minion exception mean failed', async () => {
  const missing = "'service.restartx' is not available.";
  const cases: [Record<string, unknown>, string, string][] = [
    [{ web1: full(true), web2: full(false) }, 'service.restart', 'web2: service.restart returned false'],
    [{ web1: full(missing, 254, 'nested'), web2: full(missing, 254, 'nested') }, 'service.restartx', "web1: 'service.restartx' is not available. (retcode 254); web2: "],
    [{ web1: full('The minion function caused an exception: Traceback (most recent call last): ...', 1, 'nested') }, 'service.restart', 'web1: The minion function caused an exception'],
  ];
  for (const [result, fun, words] of cases) {
    rec.answer = answerRun(result);
    const { outcome, log } = await run(data({ fun }));
    assert.is(outcome, 'failed');
    assert.match(String(log.lines[0]!.msg), words);
    assert.is(log.lines[0]!.httpStatus, 200);
  }
});

const restartFailed =
  'Job for nginx.service failed because the control process exited with error code.\n' +
  'See "systemctl status nginx.service" and "journalctl -xeu nginx.service" for details.';

test('cmd.run: a command that exits 1 means failed, naming the minion, the retcode and the end of the output', async () => {
  rec.answer = answerRun({ web1: full(restartFailed, 1) });
  const { outcome, log } = await run(data({ tgt: 'web1', fun: 'cmd.run', arg: ['systemctl restart nginx'] }));
  assert.is(outcome, 'failed');
  assertRun({ client: 'local', tgt: 'web1', tgt_type: 'glob', fun: 'cmd.run', arg: ['systemctl restart nginx'], ...creds });
  assert.match(String(log.lines[0]!.msg), 'web1: cmd.run failed with retcode 1: Job for nginx.service failed because the control process exited with error code. | See "systemctl status nginx.service"');
  assert.is(log.lines[0]!.httpStatus, 200);
});

test('cmd.run: retcode 0 on every minion means ran', async () => {
  rec.answer = answerRun({ web1: full(''), web2: full('nginx restarted') });
  const { outcome, log } = await run(data({ fun: 'cmd.run', arg: ['systemctl restart nginx && echo nginx restarted'] }));
  assert.is(outcome, 'ran');
  assert.match(String(log.lines[0]!.msg), 'cmd.run succeeded on 2 minions (web1, web2)');
});

test('mixed minions: only the ones with a non-zero retcode are named, with the tail of a long output', async () => {
  const noisy = Array.from({ length: 60 }, (_, i) => `line ${i}: checking configuration`).join('\n') + '\nnginx: [emerg] unknown directive "lisen" in /etc/nginx/sites-enabled/app:3';
  rec.answer = answerRun({ web1: full('ok'), web2: full(noisy, 1), web3: full('ok') });
  const { outcome, message, log } = await run(data({ fun: 'cmd.run', arg: ['nginx -t && systemctl reload nginx'] }));
  assert.is(outcome, 'failed');
  // Cut to 300 characters, the message keeps the request, the minion and the last words of the output.
  assert.match(message, new RegExp(`^POST ${rec.peer.url}/run: web2: cmd\\.run failed with retcode 1: .*….*nginx: \\[emerg\\] unknown directive "lisen" in /etc/nginx/sites-enabled/app:3$`));
  const msg = String(log.lines[0]!.msg);
  assert.match(msg, /web2: cmd\.run failed with retcode 1: ….*nginx: \[emerg\] unknown directive "lisen" in \/etc\/nginx\/sites-enabled\/app:3$/);
  assert.not.match(msg, 'line 0:');
  assert.not.match(msg, 'web1');
  assert.not.match(msg, 'web3');
});

test('cmd.run_all and cmd.script: the exit code in the return counts too', async () => {
  for (const fun of ['cmd.run_all', 'cmd.script']) {
    rec.answer = answerRun({ db1: full({ pid: 4242, retcode: 3, stdout: 'stopping postgresql', stderr: 'pg_ctl: server does not shut down' }, 3) });
    const { outcome, log } = await run(data({ tgt: 'db1', fun, arg: ['salt://restart-pg.sh'] }));
    assert.is(outcome, 'failed');
    assert.match(String(log.lines[0]!.msg), `db1: ${fun} failed with retcode 3: stopping postgresql | pg_ctl: server does not shut down`);
  }
  // A minion that leaves the job's retcode at 0 still reports the command's own.
  rec.answer = answerRun({ db1: full({ pid: 4242, retcode: 2, stdout: '', stderr: 'No such file' }, 0) });
  const { outcome, log } = await run(data({ tgt: 'db1', fun: 'cmd.run_all', arg: ['/opt/restart'] }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), 'db1: cmd.run_all failed with retcode 2: No such file');
});

test('state: retcode 2 with every listed state true still means failed (a state failed that the return does not show)', async () => {
  rec.answer = answerRun({ web1: full(stateRun([['nginx', true, 'ok']]), 2, 'highstate') });
  const { outcome, log } = await run(data({ fun: undefined, arg: undefined, state: 'nginx' }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), 'web1: state.apply failed with retcode 2');
  assert.not.match(String(log.lines[0]!.msg), '__run_num__');
});

test('a minion that did not return, and an answer without retcodes (salt before 2017.7), mean failed', async () => {
  rec.answer = answerRun({ web1: full(true), web2: false });
  let r = await run(data());
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'web2: did not return');
  assert.not.match(String(r.log.lines[0]!.msg), 'web1');
  rec.answer = answerRun({ web1: { out: 'no_return', ret: 'Minion did not return. [No response]', retcode: 1 } });
  r = await run(data());
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'web1: did not return (Minion did not return. [No response])');
  rec.answerFor = (got) => saltApi(got) ?? { status: 200, body: { return: [{ web1: true }] } };
  try {
    r = await run(data());
  } finally {
    rec.answerFor = (got) => saltApi(got) ?? asRequested(got, rec.answer);
  }
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'web1: no {"ret", "retcode"} in its answer (salt before 2017.7 ignores full_return): true');
});

test('no minion matched, or a listed minion did not return, means failed', async () => {
  rec.answer = answerRun({});
  let r = await run(data({ tgt: 'wbe*' }));
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'no minion matched tgt "wbe*" (glob)');
  rec.answer = answerRun({ web1: full(true) });
  r = await run(data({ tgt: 'web1,web2', tgtType: 'list' }));
  assert.is(r.outcome, 'failed');
  assert.match(String(r.log.lines[0]!.msg), 'web2 did not return');
});

test('bad credentials: salt-api answers 401, which means failed; the password is never logged', async () => {
  rec.answer = answerRun({ web1: full(true) });
  const { outcome, message, log } = await run(data({ password: 'wrong-password' }));
  assert.is(outcome, 'failed');
  assert.match(message, `POST ${rec.peer.url}/run answered HTTP 401`);
  assert.not.match(message, 'wrong-password');
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
    const { outcome, message, log } = await run(d);
    assert.is(outcome, 'failed');
    assert.match(String(log.lines[0]!.msg), words);
    assert.match(message, new RegExp(`^${words}`));
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
      res.end(JSON.stringify({ return: [{ web1: full(true) }] }));
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

test('dry run: nothing reaches salt-api; the message has the POST /run and the lowstate, the password masked', async () => {
  const mod = await load();
  const nothingSent = untouched(rec);
  const log = memoryLog();
  assertDryRun(await mod.react(sampleEvent('saltstack', data({ kwarg: { test: true } })), dryRunCtx(log)), [
    `would send POST ${rec.peer.url}/run with headers accept: application/json, content-type: application/json; `,
    'not known without acting: which minions tgt matches and what service.restart returns on them; ',
    'body: [{"client":"local","tgt":"web*","tgt_type":"glob","fun":"service.restart","arg":["nginx"],"kwarg":{"test":true},"full_return":true,"username":"saltapi","password":"***","eauth":"pam"}]',
  ], [PASSWORD]);
  // A data problem is decided as for real: failed, before any request.
  assert.is(outcomeOf(await mod.react(sampleEvent('saltstack', data({ state: 'nginx' })), dryRunCtx(log))), 'failed');
  nothingSent();
  assert.is(mod.meta.dryRun, true);
});

test.run();

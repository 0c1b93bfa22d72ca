import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import { templateProblems } from '../../src/core/template.js';
import type { ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { assertDryRun, assertNetworkFailures, dryRunCtx, lastMessage, outcomeOf, recorder, sampleEvent, untouched, type Recorder } from './_recorder.js';

let mod: ReactionModule;
let rec: Recorder;

test.before(async () => {
  mod = await reactionLoader().load('http');
  rec = await recorder();
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
  rec.answer = { status: 200, body: 'ok' };
});

const ctx = () => ({ signal: AbortSignal.timeout(5000), logger: memoryLog().logger });

test('schema rejects bad data naming the field; headers are secret; the body is a checked template', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.url is required']);
  assert.match(validate(f, { url: 'http://a/', method: 'TRACE' }).join(), 'data.method must be one of "GET", "POST", "PUT", "PATCH", "DELETE"');
  assert.match(validate(f, { url: 'http://a/', expectedStatus: [200, 42] }).join(), 'data.expectedStatus[1] must be >= 100');
  assert.match(validate(f, { url: 'http://a/', headers: { 'x-token': 7 } }).join(), 'data.headers.x-token must be a string');
  assert.equal(secretFields(f), ['headers']);
  assert.is(mod.meta.kind, 'notify', 'notify unless the reaction says fix');
  assert.match(templateProblems(f, { url: 'http://a/', body: '{"m": "{{mesage}}"}' }).join(), 'data.body uses unknown template field {{mesage}}');
});

test('POSTs the JSON body template with values escaped for JSON, and the headers', async () => {
  const body = '{"service": "{{monitor.name}}", "why": "{{message}}", "failures": {{failcount}}}';
  const event = sampleEvent('http', { url: `${rec.peer.url}/admin/restart?now=1`, headers: { authorization: 'Bearer t0k', 'Content-Type': 'text/plain' }, body }, { message: 'said "no"\nthen quit' });
  assert.is(outcomeOf(await mod.react(event, ctx())), 'ran');
  const got = rec.received[0]!;
  assert.is(got.method, 'POST');
  assert.is(got.url, '/admin/restart?now=1');
  assert.is(got.headers.authorization, 'Bearer t0k');
  assert.is(got.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(got.body), { service: 'api health', why: 'said "no"\nthen quit', failures: 3 });
});

test('a plain-text body is rendered as is; GET sends no body', async () => {
  const event = sampleEvent('http', { url: `${rec.peer.url}/t`, method: 'PUT', contentType: 'text/plain', body: '{{monitor.name}} "{{status}}"' });
  assert.is(outcomeOf(await mod.react(event, ctx())), 'ran');
  assert.is(rec.received[0]!.method, 'PUT');
  assert.is(rec.received[0]!.headers['content-type'], 'text/plain');
  assert.is(rec.received[0]!.body, 'api health "failed"');
  assert.is(outcomeOf(await mod.react(sampleEvent('http', { url: `${rec.peer.url}/g`, method: 'GET', body: 'x' }), ctx())), 'ran');
  assert.is(rec.received[1]!.method, 'GET');
  assert.is(rec.received[1]!.body, '');
});

test('expected statuses: any 2xx by default, else only the listed ones', async () => {
  rec.answer = { status: 204, body: '' };
  assert.is(outcomeOf(await mod.react(sampleEvent('http', { url: rec.peer.url }), ctx())), 'ran');
  assert.is(outcomeOf(await mod.react(sampleEvent('http', { url: rec.peer.url, expectedStatus: [200] }), ctx())), 'failed');
  assert.is(lastMessage(), `POST ${rec.peer.url} answered HTTP 204`, 'an unexpected 2xx is named too');
  rec.answer = { status: 302, body: '' };
  assert.is(outcomeOf(await mod.react(sampleEvent('http', { url: rec.peer.url, expectedStatus: [301, 302] }), ctx())), 'ran');
  rec.answer = { status: 500, body: `boom ${'x'.repeat(400)}\nat line 2` };
  const log = memoryLog();
  assert.is(outcomeOf(await mod.react(sampleEvent('http', { url: rec.peer.url, method: 'DELETE' }), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
  assert.match(lastMessage(), `DELETE ${rec.peer.url} answered HTTP 500: boom xxx`);
  assert.ok(lastMessage().length <= 300 && lastMessage().endsWith('…'), 'a long answer is cut');
  assert.is(log.lines[0]!.httpStatus, 500);
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.is(log.lines[0]!.reactionId, 'rea-3');
  assert.match(String(log.lines[0]!.msg), `DELETE ${rec.peer.url} answered HTTP 500`);
});

test('a refused connection and a silent server mean failed', () => assertNetworkFailures(mod, (base) => sampleEvent('http', { url: `${base}/x` })));

test('dry run: nothing is sent; the message has the method, URL, headers and the rendered body, the header values masked', async () => {
  const body = '{"service": "{{monitor.name}}", "why": "{{message}}", "failures": {{failcount}}}';
  const data = { url: `${rec.peer.url}/admin/restart?now=1`, headers: { authorization: 'Bearer t0k3n-s3cret', 'x-team': 'ops-team-7' }, body };
  const event = sampleEvent('http', data, { message: 'said "no"\nthen quit' });
  const nothingSent = untouched(rec);
  const log = memoryLog();
  assertDryRun(await mod.react(event, dryRunCtx(log)), [
    `would send POST ${rec.peer.url}/admin/restart?now=1 with headers authorization: ***, x-team: ***, content-type: application/json; `,
    'body: {"service": "api health", "why": "said \\"no\\"\\nthen quit", "failures": 3}',
  ], ['Bearer t0k3n-s3cret', 't0k3n-s3cret', 'ops-team-7']);
  nothingSent();
  assert.equal(log.lines, []);
  assert.is(mod.meta.dryRun, true);
});

test('dry run: a long body is cut at 2,000 characters, saying so, and a secret is masked before the cut', async () => {
  // The event's message repeats the header's secret where the cut falls: cut first, its first half would show.
  const data = { url: `${rec.peer.url}/t`, method: 'PUT', contentType: 'text/plain', headers: { authorization: 'Bearer t0k3n-s3cret' }, body: `${'x'.repeat(1990)}{{message}}${'y'.repeat(100)}` };
  const nothingSent = untouched(rec);
  const message = assertDryRun(await mod.react(sampleEvent('http', data, { message: 'Bearer t0k3n-s3cret' }), dryRunCtx()), [
    `would send PUT ${rec.peer.url}/t with headers authorization: ***, content-type: text/plain; body: ${'x'.repeat(1990)}***yyyyyyy… (cut at 2000 of 2093 characters)`,
  ], ['Bearer t0k', 't0k3n']);
  assert.ok(message.length < 2300, `${message.length} characters`);
  nothingSent();
  // GET sends no body, and says none.
  assert.not.match(assertDryRun(await mod.react(sampleEvent('http', { url: `${rec.peer.url}/g`, method: 'GET', body: 'x' }), dryRunCtx()), [`would send GET ${rec.peer.url}/g`], []), 'body');
  nothingSent();
});

test.run();

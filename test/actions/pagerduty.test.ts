import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import { templateProblems } from '../../src/core/template.js';
import type { Reaction, ReactionModule } from '../../src/core/types.js';
import { shouldRun } from '../../src/sink/rules.js';
import { memoryLog } from '../helpers/memory-log.js';
import { assertDryRun, assertNetworkFailures, dryRunCtx, lastMessage, outcomeOf, recorder, sampleEvent, untouched, type Recorder } from './_recorder.js';

let mod: ReactionModule;
let rec: Recorder;
const accepted = { status: 'success', message: 'Event processed', dedup_key: 'cloudroutes-mon-7' };

test.before(async () => {
  mod = await reactionLoader().load('pagerduty');
  rec = await recorder();
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
  rec.answer = { status: 202, body: accepted };
});

const key = 'R0UT1NGKEY0123456789abcdefABCDEF';
const data = () => ({ routingKey: key, baseUrl: rec.peer.url });
const ctx = () => ({ signal: AbortSignal.timeout(5000), logger: memoryLog().logger });

test('schema rejects bad data naming the field; the routing key is secret; the summary is a checked template', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.routingKey is required']);
  assert.match(validate(f, { routingKey: key, severity: 'high' }).join(), 'data.severity must be one of "critical", "error", "warning", "info"');
  assert.match(validate(f, { routingKey: key, baseUrl: 'events.pagerduty.com' }).join(), /data\.baseUrl (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
  assert.equal(secretFields(f), ['routingKey']);
  assert.is(mod.meta.kind, 'notify');
  assert.match(templateProblems(f, { routingKey: key, summary: '{{monitor}} down' }).join(), 'data.summary uses unknown template field {{monitor}}');
});

test('runs on failed past the trigger and on healthy, whatever call-on', () => {
  const reaction = { trigger: 3, callOn: 'failed' } as Reaction;
  assert.not.ok(shouldRun(mod, { reaction, status: 'failed', failcount: 2 }));
  assert.ok(shouldRun(mod, { reaction, status: 'failed', failcount: 3 }));
  assert.ok(shouldRun(mod, { reaction, status: 'healthy', failcount: 0 }));
  assert.ok(shouldRun(mod, { reaction: { ...reaction, callOn: 'healthy' }, status: 'failed', failcount: 5 }));
  assert.not.ok(shouldRun(mod, { reaction, status: 'unknown', failcount: 9 }));
});

test('a failed result triggers the monitor\'s alert with the documented Events API v2 document; 202 means ran', async () => {
  const outcome = outcomeOf(await mod.react(sampleEvent('pagerduty', { ...data(), summary: '[{{zone}}] {{monitor.name}}: {{message}}', severity: 'error', source: 'api.example.com' }), ctx()));
  assert.is(outcome, 'ran');
  const got = rec.received[0]!;
  assert.is(got.method, 'POST');
  assert.is(got.url, '/v2/enqueue');
  assert.is(got.headers['content-type'], 'application/json');
  assert.is(got.headers.authorization, undefined);
  assert.equal(JSON.parse(got.body), {
    routing_key: key,
    dedup_key: 'cloudroutes-mon-7',
    event_action: 'trigger',
    payload: {
      summary: '[eu-1] api health: got HTTP 503, expected 200',
      source: 'api.example.com',
      severity: 'error',
      timestamp: '2024-05-01T12:30:00.000Z',
      component: 'http-get-statuscode',
      custom_details: { monitor: 'api health', monitorId: 'mon-7', status: 'failed', previousStatus: 'healthy', failcount: 3, zone: 'eu-1', message: 'got HTTP 503, expected 200' },
    },
    client: 'CloudRoutes',
  });
});

test('defaults: summary, source and severity critical', async () => {
  await mod.react(sampleEvent('pagerduty', data()), ctx());
  const { payload } = JSON.parse(rec.received[0]!.body);
  assert.is(payload.summary, 'api health is failed: got HTTP 503, expected 200');
  assert.is(payload.source, 'cloudroutes:api health');
  assert.is(payload.severity, 'critical');
});

test('the first healthy result after a failure resolves the same dedup key; healthy after healthy is skipped', async () => {
  const recovered = sampleEvent('pagerduty', data(), { status: 'healthy', previousStatus: 'failed', failcount: 0 });
  assert.is(outcomeOf(await mod.react(recovered, ctx())), 'ran');
  assert.equal(JSON.parse(rec.received[0]!.body), { routing_key: key, dedup_key: 'cloudroutes-mon-7', event_action: 'resolve' });
  const still = sampleEvent('pagerduty', data(), { status: 'healthy', previousStatus: 'healthy', failcount: 0 });
  assert.is(outcomeOf(await mod.react(still, ctx())), 'skipped');
  assert.is(lastMessage(), 'no alert to resolve: the result before was healthy too');
  assert.is(rec.received.length, 1);
});

test('400 invalid event and 429 mean failed, logged with the status and PagerDuty\'s answer', async () => {
  for (const [status, body] of [[400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Length of \'routing_key\' is incorrect (should be 32 characters)'] }], [429, 'rate limited']] as const) {
    rec.answer = { status, body };
    const log = memoryLog();
    assert.is(outcomeOf(await mod.react(sampleEvent('pagerduty', data()), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
    assert.is(log.lines[0]!.httpStatus, status);
    assert.is(log.lines[0]!.monitorId, 'mon-7');
    assert.is(log.lines[0]!.reactionId, 'rea-3');
    assert.match(String(log.lines[0]!.msg), `answered HTTP ${status}`);
    assert.match(lastMessage(), `POST ${rec.peer.url}/v2/enqueue answered HTTP ${status}: ${typeof body === 'string' ? body : '{"status":"invalid event"'}`);
  }
  // An answer that quotes the routing key back: the message shows *** in its place.
  rec.answer = { status: 400, body: { status: 'invalid event', message: `routing key ${key} is not active` } };
  assert.is(outcomeOf(await mod.react(sampleEvent('pagerduty', data()), ctx())), 'failed');
  assert.match(lastMessage(), 'routing key *** is not active');
  assert.not.match(lastMessage(), key);
  rec.answer = { status: 200, body: accepted };
  assert.is(outcomeOf(await mod.react(sampleEvent('pagerduty', data()), ctx())), 'failed', 'only 202 is documented as accepted');
});

test('a refused connection and a silent server mean failed', () => assertNetworkFailures(mod, (base) => sampleEvent('pagerduty', { routingKey: key, baseUrl: base })));

test('dry run: nothing is sent; the message has the URL and the Events API document, the routing key masked', async () => {
  const nothingSent = untouched(rec);
  assertDryRun(await mod.react(sampleEvent('pagerduty', data()), dryRunCtx()), [
    `would send POST ${rec.peer.url}/v2/enqueue with headers content-type: application/json; `,
    'body: {"routing_key":"***","dedup_key":"cloudroutes-mon-7","event_action":"trigger","payload":{"summary":"api health is failed: got HTTP 503, expected 200"',
  ], [key]);
  const recovered = sampleEvent('pagerduty', data(), { status: 'healthy', previousStatus: 'failed', failcount: 0 });
  assertDryRun(await mod.react(recovered, dryRunCtx()), ['body: {"routing_key":"***","dedup_key":"cloudroutes-mon-7","event_action":"resolve"}'], [key]);
  // Healthy after healthy is decided as for real: nothing to resolve.
  assert.is(outcomeOf(await mod.react(sampleEvent('pagerduty', data(), { status: 'healthy', previousStatus: 'healthy', failcount: 0 }), dryRunCtx())), 'skipped');
  nothingSent();
  assert.is(mod.meta.dryRun, true);
});

test.run();

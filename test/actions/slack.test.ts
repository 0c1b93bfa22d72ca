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
  mod = await reactionLoader().load('slack');
  rec = await recorder();
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
  rec.answer = { status: 200, body: 'ok' };
});

const ctx = () => ({ signal: AbortSignal.timeout(5000), logger: memoryLog().logger });

test('schema rejects bad data naming the field; the webhook URL is secret; text is a checked template', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.webhookUrl is required']);
  assert.match(validate(f, { webhookUrl: 'hooks.slack.com' }).join(), /data\.webhookUrl (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
  assert.match(validate(f, { webhookUrl: 'https://h/', icon: ':x:' }).join(), 'data.icon is not a known field');
  assert.equal(secretFields(f), ['webhookUrl']);
  assert.is(mod.meta.kind, 'notify');
  assert.match(templateProblems(f, { webhookUrl: 'https://h/', text: '{{monitor.nmae}} down' }).join(), 'data.text uses unknown template field {{monitor.nmae}}');
});

test('posts the default text as JSON; Slack\'s "ok" 200 means ran', async () => {
  const outcome = outcomeOf(await mod.react(sampleEvent('slack', { webhookUrl: `${rec.peer.url}/services/T0/B0/XYZ` }), ctx()));
  assert.is(outcome, 'ran');
  const got = rec.received[0]!;
  assert.is(got.method, 'POST');
  assert.is(got.url, '/services/T0/B0/XYZ');
  assert.is(got.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(got.body), { text: 'api health is failed (was healthy, 3 failed checks, zone eu-1): got HTTP 503, expected 200' });
});

test('a custom template, channel and username; quotes in values stay valid JSON', async () => {
  const data = { webhookUrl: `${rec.peer.url}/x`, text: ':red_circle: *{{monitor.name}}* {{status}} at {{checkedAt}}', channel: '#ops', username: 'CloudRoutes' };
  const event = sampleEvent('slack', data, { monitor: { id: 'mon-7', name: 'say "hi"', ctype: 'tcp-check' } });
  assert.is(outcomeOf(await mod.react(event, ctx())), 'ran');
  assert.equal(JSON.parse(rec.received[0]!.body), { text: ':red_circle: *say "hi"* failed at 2024-05-01T12:30:00.000Z', channel: '#ops', username: 'CloudRoutes' });
});

test('a 404 (no_service) means failed; the log names monitor and reaction but not the secret URL path', async () => {
  rec.answer = { status: 404, body: 'no_service' };
  const log = memoryLog();
  const outcome = outcomeOf(await mod.react(sampleEvent('slack', { webhookUrl: `${rec.peer.url}/services/SECRET` }), { signal: AbortSignal.timeout(5000), logger: log.logger }));
  assert.is(outcome, 'failed');
  assert.is(log.lines[0]!.httpStatus, 404);
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.is(log.lines[0]!.reactionId, 'rea-3');
  assert.not.match(JSON.stringify(log.lines), 'SECRET');
  assert.is(lastMessage(), `POST ${rec.peer.url} answered HTTP 404: no_service`, 'the message names the webhook\'s address, not its secret path');
});

test('a refused connection and a silent server mean failed', () => assertNetworkFailures(mod, (base) => sampleEvent('slack', { webhookUrl: `${base}/x` })));

test('dry run: nothing is posted; the message has the webhook\'s address without its secret path, and the rendered text', async () => {
  const data = { webhookUrl: `${rec.peer.url}/services/T0/B0/XYZSECRET`, channel: '#ops' };
  const nothingSent = untouched(rec);
  const message = assertDryRun(await mod.react(sampleEvent('slack', data), dryRunCtx()), [
    `would send POST ${rec.peer.url}/*** (the rest of the URL is secret) with headers content-type: application/json; `,
    'body: {"text":"api health is failed (was healthy, 3 failed checks, zone eu-1): got HTTP 503, expected 200","channel":"#ops"}',
  ], [data.webhookUrl]);
  assert.not.match(message, 'XYZSECRET');
  assert.not.match(message, '/services/');
  nothingSent();
  assert.is(mod.meta.dryRun, true);
});

test.run();

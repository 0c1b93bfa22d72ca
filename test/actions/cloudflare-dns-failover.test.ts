import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import type { Reaction, ReactionModule } from '../../src/core/types.js';
import { shouldRun } from '../../src/sink/rules.js';
import { memoryLog } from '../helpers/memory-log.js';
import { assertDryRun, assertNetworkFailures, dryRunCtx, lastMessage, outcomeOf, recorder, sampleEvent, untouched, type Recorder } from './_recorder.js';

let mod: ReactionModule;
let rec: Recorder;

const zoneId = '023e105f4ecef8ad9ca31a8372d0c353';
const recordId = '372e67954025e0ba6aaa6d586b9e0b59';
const token = 'Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQqnFTOFYY';

/** A Cloudflare answer as documented: the envelope around the updated record. */
function answer(content: string): unknown {
  return {
    success: true,
    errors: [],
    messages: [],
    result: { id: recordId, zone_id: zoneId, name: 'www.example.com', type: 'A', content, proxied: false, ttl: 1 },
  };
}

test.before(async () => {
  mod = await reactionLoader().load('cloudflare-dns-failover');
  rec = await recorder();
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
  rec.answer = { status: 200, body: answer('198.51.100.20') };
});

const data = () => ({ apiToken: token, zoneId, recordId, primary: '203.0.113.10', standby: '198.51.100.20', baseUrl: `${rec.peer.url}/client/v4` });
const ctx = () => ({ signal: AbortSignal.timeout(5000), logger: memoryLog().logger });

test('schema rejects bad data naming the field; the token is secret', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { apiToken: token, zoneId, recordId, primary: '203.0.113.10' }), ['data.standby is required']);
  assert.match(validate(f, { ...data(), zoneId: 'example.com' }).join(), 'data.zoneId must match');
  assert.match(validate(f, { ...data(), ttl: 60 }).join(), 'data.ttl is not a known field');
  assert.equal(secretFields(f), ['apiToken']);
  assert.is(mod.meta.kind, 'fix');
});

test('runs on failed past the trigger and on healthy, whatever call-on', () => {
  const reaction = { trigger: 2, callOn: 'healthy' } as Reaction;
  assert.not.ok(shouldRun(mod, { reaction, status: 'failed', failcount: 1 }));
  assert.ok(shouldRun(mod, { reaction, status: 'failed', failcount: 2 }));
  assert.ok(shouldRun(mod, { reaction: { ...reaction, callOn: 'failed' }, status: 'healthy', failcount: 0 }));
});

test('failed: PATCHes the record to the standby address with the Bearer token', async () => {
  assert.is(outcomeOf(await mod.react(sampleEvent('cloudflare-dns-failover', data()), ctx())), 'ran');
  const got = rec.received[0]!;
  assert.is(got.method, 'PATCH');
  assert.is(got.url, `/client/v4/zones/${zoneId}/dns_records/${recordId}`);
  assert.is(got.headers.authorization, `Bearer ${token}`);
  assert.is(got.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(got.body), { content: '198.51.100.20' });
});

test('the first healthy result after a failure points it back at the primary; healthy after healthy is skipped', async () => {
  rec.answer = { status: 200, body: answer('203.0.113.10') };
  assert.is(outcomeOf(await mod.react(sampleEvent('cloudflare-dns-failover', data(), { status: 'healthy', previousStatus: 'failed', failcount: 0 }), ctx())), 'ran');
  assert.equal(JSON.parse(rec.received[0]!.body), { content: '203.0.113.10' });
  assert.is(outcomeOf(await mod.react(sampleEvent('cloudflare-dns-failover', data(), { status: 'healthy', previousStatus: 'healthy', failcount: 0 }), ctx())), 'skipped');
  assert.is(lastMessage(), 'nothing to switch back: the result before was healthy too');
  assert.is(rec.received.length, 1);
});

test('an error answer or success: false means failed, with Cloudflare\'s errors logged', async () => {
  rec.answer = { status: 400, body: { success: false, errors: [{ code: 9005, message: 'Content for A record is invalid.' }], messages: [], result: null } };
  const log = memoryLog();
  assert.is(outcomeOf(await mod.react(sampleEvent('cloudflare-dns-failover', data()), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
  assert.is(log.lines[0]!.httpStatus, 400);
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.is(log.lines[0]!.reactionId, 'rea-3');
  assert.match(String(log.lines[0]!.answer), 'Content for A record is invalid.');
  assert.not.match(JSON.stringify(log.lines), token);
  assert.is(lastMessage(), `PATCH ${rec.peer.url}/client/v4/zones/${zoneId}/dns_records/${recordId} answered HTTP 400: ${JSON.stringify(rec.answer.body)}`);
  rec.answer = { status: 200, body: { success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null } };
  const log2 = memoryLog();
  assert.is(outcomeOf(await mod.react(sampleEvent('cloudflare-dns-failover', data()), { signal: AbortSignal.timeout(5000), logger: log2.logger })), 'failed');
  assert.match(String(log2.lines[0]!.msg), 'success: false (10000: Authentication error)');
  assert.match(lastMessage(), /^PATCH \S+: Cloudflare answered success: false \(10000: Authentication error\)$/);
});

test('a refused connection and a silent server mean failed', () => assertNetworkFailures(mod, (base) => sampleEvent('cloudflare-dns-failover', { ...data(), baseUrl: base })));

test('dry run: the record is not changed; the message has the PATCH, the masked token and the new content', async () => {
  const nothingSent = untouched(rec);
  const log = memoryLog();
  assertDryRun(await mod.react(sampleEvent('cloudflare-dns-failover', data()), dryRunCtx(log)), [
    `would send PATCH ${rec.peer.url}/client/v4/zones/${zoneId}/dns_records/${recordId} with headers content-type: application/json, authorization: ***; `,
    `not known without acting: what record ${recordId} points at now (it is not read); body: {"content":"198.51.100.20"}`,
  ], [token]);
  const recovered = sampleEvent('cloudflare-dns-failover', data(), { status: 'healthy', previousStatus: 'failed', failcount: 0 });
  assertDryRun(await mod.react(recovered, dryRunCtx(log)), ['body: {"content":"203.0.113.10"}'], [token]);
  nothingSent();
  assert.equal(log.lines, [], 'no "now points at" line for a record that was not changed');
  assert.is(mod.meta.dryRun, true);
});

test.run();

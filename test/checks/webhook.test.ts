import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule, Signal } from '../../src/core/types.js';
import { mapDatadog, transitionStatus } from '../../src/web/datadog.js';
import { CloudRoutesError, httpStatus } from '../../src/core/errors.js';
import { ctx, job } from '../helpers/peers.js';

let webhook: CheckModule;
let datadog: CheckModule;

test.before(async () => {
  webhook = await checkLoader().load('webhook');
  datadog = await checkLoader().load('datadog-webhook');
});

const run = (mod: CheckModule, last: Signal | null) => mod.check({ ...job(mod === webhook ? 'webhook' : 'datadog-webhook', { token: 't' }), interval: 60 }, { ...ctx(), lastSignal: async () => last });

test('the scheduled check repeats the last call, unknown before the first', async () => {
  assert.equal(await run(webhook, null), { status: 'unknown', message: 'no webhook call yet' });
  assert.equal(await run(datadog, null), { status: 'unknown', message: 'no Datadog call yet' });
  const at = Date.now() - 65_000;
  const r = await run(webhook, { at, status: 'failed', message: 'queue depth 10000' });
  assert.is(r.status, 'failed');
  assert.is(r.message, `webhook said failed at ${new Date(at).toISOString()} (1m5s ago): queue depth 10000`);
  assert.is(r.metrics!.secondsSinceCall, 65);
  assert.is((await run(datadog, { at, status: 'healthy' })).status, 'healthy');
});

test('both generate their token; datadog-webhook takes warn and noData choices', () => {
  for (const mod of [webhook, datadog]) assert.match(mod.prepareData!({}, { id: 'm-x1' }).token as string, /^m-x1\.[A-Za-z0-9_-]{32}$/);
  assert.equal(validate(webhook.meta.fields, { token: 'm-x1.0123456789abcdefghij' }), []);
  assert.equal(validate(datadog.meta.fields, { token: 'm-x1.0123456789abcdefghij', warn: 'failed', noData: 'unknown' }), []);
  assert.match(validate(datadog.meta.fields, { token: 'm-x1.0123456789abcdefghij', warn: 'red' }).join(), 'data.warn must be one of');
});

test('Datadog transitions map to statuses; warn and no data as chosen, unknown by default', () => {
  const table: [string, string | undefined][] = [
    ['Triggered', 'failed'], ['Re-Triggered', 'failed'], ['Renotify', 'failed'], ['Recovered', 'healthy'],
    ['Warn', 'unknown'], ['Re-Warn', 'unknown'], ['No Data', 'unknown'], ['Re-No Data', 'unknown'], ['Null', undefined], ['', undefined],
  ];
  for (const [t, status] of table) assert.is(transitionStatus(t), status, t);
  assert.is(transitionStatus('warn', { warn: 'failed' }), 'failed');
  assert.is(transitionStatus('No Data', { noData: 'failed' }), 'failed');
});

test("Datadog's default payload: the transition is read from the title; alert_transition wins when sent", () => {
  assert.equal(mapDatadog({ title: '[Triggered] [Memory Alert]', id: '123' }), { status: 'failed', transition: 'Triggered', message: 'Datadog Triggered: [Triggered] [Memory Alert] (Datadog event 123)' });
  assert.is(mapDatadog({ title: '[P2] [Re-Triggered on {host:ip-012345}] Host is Down' }).status, 'failed');
  assert.is(mapDatadog({ title: '[Recovered on {host:ip-012345}] Host is Down' }).status, 'healthy');
  assert.is(mapDatadog({ title: '[Triggered] x', alert_transition: 'Recovered' }).status, 'healthy');
  assert.is(mapDatadog({ alert_transition: 'Warn', alert_title: 'disk 80%' }, { warn: 'failed' }).status, 'failed');
  const err = (() => { try { mapDatadog({ title: 'no transition here' }); } catch (e) { return e; } })() as CloudRoutesError;
  assert.ok(err instanceof CloudRoutesError);
  assert.is(err.code, 'CR_BAD_REQUEST');
  assert.is(httpStatus(err), 400);
  assert.is(err.field, 'title');
  assert.throws(() => mapDatadog({ alert_transition: 'Null', title: '[Triggered] x' }), /alert_transition \("Null"\)/);
});

test.run();

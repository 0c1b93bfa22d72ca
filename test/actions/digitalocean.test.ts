import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import type { ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { assertDryRun, assertNetworkFailures, dryRunCtx, lastMessage, outcomeOf, recorder, sampleEvent, untouched, type Recorder } from './_recorder.js';

let rec: Recorder;
const token = 'dop_v1_0123456789abcdef';
const modules: [string, string][] = [['digitalocean-reboot', 'reboot'], ['digitalocean-power-cycle', 'power_cycle']];

/** A DigitalOcean 201 answer as documented: the action object, in progress. */
function started(type: string): unknown {
  return { action: { id: 36804636, status: 'in-progress', type, started_at: '2024-05-01T12:30:01Z', completed_at: null, resource_id: 3164444, resource_type: 'droplet', region_slug: 'nyc3' } };
}

test.before(async () => {
  rec = await recorder();
});
test.after(() => rec.peer.close());
test.before.each(() => {
  rec.received.length = 0;
});

const data = () => ({ apiToken: token, dropletId: 3164444, baseUrl: rec.peer.url });
const ctx = () => ({ signal: AbortSignal.timeout(5000), logger: memoryLog().logger });

for (const [name, type] of modules) {
  const load = (): Promise<ReactionModule> => reactionLoader().load(name);

  test(`${name}: schema rejects bad data naming the field; the token is secret`, async () => {
    const f = (await load()).meta.fields;
    assert.equal(validate(f, { apiToken: token }), ['data.dropletId is required']);
    assert.match(validate(f, { apiToken: token, dropletId: 'web-1' }).join(), 'data.dropletId must be an integer');
    assert.match(validate(f, { ...data(), region: 'nyc3' }).join(), 'data.region is not a known field');
    assert.equal(secretFields(f), ['apiToken']);
    assert.is((await load()).meta.kind, 'fix');
  });

  test(`${name}: POSTs {"type": "${type}"} to the droplet's actions with the Bearer token; 201 means ran`, async () => {
    rec.answer = { status: 201, body: started(type) };
    assert.is(outcomeOf(await (await load()).react(sampleEvent(name, data()), ctx())), 'ran');
    const got = rec.received[0]!;
    assert.is(got.method, 'POST');
    assert.is(got.url, '/v2/droplets/3164444/actions');
    assert.is(got.headers.authorization, `Bearer ${token}`);
    assert.is(got.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(got.body), { type });
  });

  test(`${name}: 401, 404 and 422 answers mean failed, logged with DigitalOcean's message`, async () => {
    const mod = await load();
    for (const [status, id, message] of [[401, 'unauthorized', 'Unable to authenticate you.'], [404, 'not_found', 'The resource you were accessing could not be found.'], [422, 'unprocessable_entity', 'Droplet already has a pending event.']] as const) {
      rec.answer = { status, body: { id, message } };
      const log = memoryLog();
      assert.is(outcomeOf(await mod.react(sampleEvent(name, data()), { signal: AbortSignal.timeout(5000), logger: log.logger })), 'failed');
      assert.is(log.lines[0]!.httpStatus, status);
      assert.is(log.lines[0]!.monitorId, 'mon-7');
      assert.is(log.lines[0]!.reactionId, 'rea-3');
      assert.match(String(log.lines[0]!.answer), message);
      assert.not.match(JSON.stringify(log.lines), token);
      assert.is(lastMessage(), `POST ${rec.peer.url}/v2/droplets/3164444/actions answered HTTP ${status}: ${JSON.stringify({ id, message })}`);
    }
  });

  test(`${name}: dry run: nothing is sent; the message has the POST, the masked token and the action`, async () => {
    const mod = await load();
    const nothingSent = untouched(rec);
    assertDryRun(await mod.react(sampleEvent(name, data()), dryRunCtx()), [
      `would send POST ${rec.peer.url}/v2/droplets/3164444/actions with headers content-type: application/json, authorization: ***; body: {"type":"${type}"}`,
    ], [token]);
    nothingSent();
    assert.is(mod.meta.dryRun, true);
  });

  test(`${name}: a refused connection and a silent server mean failed`, async () => assertNetworkFailures(await load(), (base) => sampleEvent(name, { ...data(), baseUrl: base })));
}

test.run();

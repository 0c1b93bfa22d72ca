import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reactionLoader } from '../../src/core/plugins.js';
import { secretFields, validate } from '../../src/core/schema.js';
import type { ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { memoryLog } from '../helpers/memory-log.js';
import { assertDryRun, dryRunCtx, lastMessage, outcomeOf, untouched } from './_recorder.js';
import { closedPort, httpPeer, silentPeer, type Peer } from '../helpers/peers.js';

interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let mod: ReactionModule;
let peer: Peer;
let received: Received[] = [];
let answer = 200;

test.before(async () => {
  mod = await reactionLoader().load('webhook');
  peer = await httpPeer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(answer);
      // An error answer that echoes the request's token, as some servers do: the reaction's message must not repeat it.
      res.end(answer === 200 ? 'thanks' : `nope ${req.headers.authorization ?? ''}`);
    });
  });
});

test.after(() => peer.close());
test.before.each(() => {
  received = [];
  answer = 200;
});

const checkedAt = Date.UTC(2024, 4, 1, 12, 30, 0);

function event(data: Record<string, unknown>): ReactionEvent {
  return {
    monitor: { id: 'mon-7', name: 'api health', ctype: 'http-get-statuscode' },
    reaction: { id: 'rea-3', name: 'page ops', rtype: 'webhook', data },
    status: 'failed',
    previousStatus: 'healthy',
    failcount: 3,
    zone: 'eu-1',
    checkedAt,
    message: 'got HTTP 503, expected 200',
  };
}

test('schema rejects bad data, naming the field; headers are secret', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.url is required']);
  assert.match(validate(f, { url: 'mailto:x@y' }).join(), /data\.url (is not a URL|must be an http:\/\/ or https:\/\/ URL)/);
  assert.match(validate(f, { url: 'http://a/', method: 'GET' }).join(), 'data.method must be one of "POST", "PUT", "PATCH"');
  assert.match(validate(f, { url: 'http://a/', headers: { authorization: 42 } }).join(), 'data.headers.authorization must be a string');
  assert.match(validate(f, { url: 'http://a/', token: 'x' }).join(), 'data.token is not a known field');
  assert.equal(secretFields(f), ['headers']);
  assert.is(mod.meta.kind, 'notify');
});

test('POSTs the event as JSON and a 2xx answer means ran', async () => {
  const log = memoryLog();
  const outcome = outcomeOf(await mod.react(event({ url: `${peer.url}/hook?x=1` }), { signal: AbortSignal.timeout(5000), logger: log.logger }));
  assert.is(outcome, 'ran');
  assert.is(received.length, 1);
  const got = received[0]!;
  assert.is(got.method, 'POST');
  assert.is(got.url, '/hook?x=1');
  assert.is(got.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(got.body), {
    monitor: { id: 'mon-7', name: 'api health', ctype: 'http-get-statuscode' },
    status: 'failed',
    previousStatus: 'healthy',
    failcount: 3,
    zone: 'eu-1',
    checkedAt: '2024-05-01T12:30:00.000Z',
    message: 'got HTTP 503, expected 200',
    reaction: { id: 'rea-3', name: 'page ops' },
  });
  assert.equal(log.lines, []);
});

test('the method and headers come from data; content-type stays JSON', async () => {
  const outcome = outcomeOf(await mod.react(event({ url: `${peer.url}/`, method: 'PUT', headers: { authorization: 'Bearer s3cret', 'Content-Type': 'text/plain' } }), {
    signal: AbortSignal.timeout(5000),
    logger: memoryLog().logger,
  }));
  assert.is(outcome, 'ran');
  assert.is(received[0]!.method, 'PUT');
  assert.is(received[0]!.headers.authorization, 'Bearer s3cret');
  assert.is(received[0]!.headers['content-type'], 'application/json');
});

test('a 500 answer means failed, logged with the status; the message names it without the secret header', async () => {
  answer = 500;
  const log = memoryLog();
  const outcome = outcomeOf(await mod.react(event({ url: `${peer.url}/`, headers: { authorization: 'Bearer s3cret-t0ken' } }), { signal: AbortSignal.timeout(5000), logger: log.logger }));
  assert.is(outcome, 'failed');
  assert.is(lastMessage(), `POST ${peer.url}/ answered HTTP 500: nope ***`);
  assert.not.match(JSON.stringify(log.lines), 's3cret-t0ken');
  assert.is(log.lines.length, 1);
  assert.is(log.lines[0]!.httpStatus, 500);
  assert.is(log.lines[0]!.reactionId, 'rea-3');
  assert.is(log.lines[0]!.monitorId, 'mon-7');
  assert.match(String(log.lines[0]!.msg), 'answered HTTP 500');
});

test('a refused connection means failed, logged with the reason', async () => {
  const port = await closedPort();
  const log = memoryLog();
  const outcome = outcomeOf(await mod.react(event({ url: `http://127.0.0.1:${port}/hook` }), { signal: AbortSignal.timeout(5000), logger: log.logger }));
  assert.is(outcome, 'failed');
  assert.match(String(log.lines[0]!.msg), 'ECONNREFUSED');
  assert.is(lastMessage(), `POST http://127.0.0.1:${port}/hook: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port}`);
});

test('a server that never answers is cut by the signal', async () => {
  const silent = await silentPeer();
  try {
    const log = memoryLog();
    const started = Date.now();
    const outcome = outcomeOf(await mod.react(event({ url: `${silent.url}/` }), { signal: AbortSignal.timeout(200), logger: log.logger }));
    assert.is(outcome, 'failed');
    assert.ok(Date.now() - started < 1500);
    assert.match(String(log.lines[0]!.msg), 'deadline');
    assert.is(lastMessage(), `POST ${silent.url}/: the deadline passed before it answered`);
  } finally {
    await silent.close();
  }
});

test('dry run: nothing is sent; the message has the method, URL, headers masked and the event document', async () => {
  const nothingSent = untouched({ peer, received });
  const log = memoryLog();
  const r = await mod.react(event({ url: `${peer.url}/hook?x=1`, method: 'PUT', headers: { authorization: 'Bearer s3cret-t0ken', 'X-Team': 'ops-team-7' } }), dryRunCtx(log));
  assertDryRun(r, [
    `would send PUT ${peer.url}/hook?x=1 with headers content-type: application/json, authorization: ***, X-Team: ***; body: {"monitor":{"id":"mon-7","name":"api health","ctype":"http-get-statuscode"},"status":"failed"`,
    '"checkedAt":"2024-05-01T12:30:00.000Z","message":"got HTTP 503, expected 200","reaction":{"id":"rea-3","name":"page ops"}}',
  ], ['s3cret-t0ken', 'ops-team-7']);
  nothingSent();
  assert.equal(log.lines, []);
  assert.is(mod.meta.dryRun, true);
});

test.run();

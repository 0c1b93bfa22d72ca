import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runReaction } from 'cloudroutes/testing';

const MODULE = fileURLToPath(new URL('../my-actions/ntfy-notify', import.meta.url));

// A local server in ntfy's place: it records each request and answers with the status the test asks for.
const requests: { req: IncomingMessage; body: string }[] = [];
let answer = 200;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c));
  req.on('end', () => {
    requests.push({ req, body });
    res.writeHead(answer, { 'content-type': 'application/json' }).end(answer === 200 ? '{"id":"x1"}' : '{"error":"forbidden"}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

test('a failure is published to the topic as JSON, with the token', async () => {
  answer = 200;
  const run = await runReaction(MODULE, { server: url, topic: 'ops', token: 'tk_secret' }, { monitor: { name: 'site' }, message: 'HTTP 500' });
  assert.equal(run.outcome, 'ran');
  const { req, body } = requests.at(-1)!;
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/');
  assert.equal(req.headers.authorization, 'Bearer tk_secret');
  assert.deepEqual(JSON.parse(body), { topic: 'ops', title: 'site is failed', message: 'HTTP 500', priority: 4, tags: ['rotating_light'] });
});

test('templates are filled from the event', async () => {
  answer = 200;
  const data = { server: url, topic: 'ops', title: '{{monitor.name}} back', message: '{{status}} after {{failcount}} failures' };
  const run = await runReaction(MODULE, data, { status: 'healthy', failcount: 0 });
  assert.equal(run.outcome, 'ran');
  assert.equal(JSON.parse(requests.at(-1)!.body).message, 'healthy after 0 failures');
});

test('a refusal is a failed run, logged with the status, and its message says what the server answered', async () => {
  answer = 403;
  const run = await runReaction(MODULE, { server: url, topic: 'ops', token: 'tk_secret' });
  assert.equal(run.outcome, 'failed');
  assert.equal(run.message, `${url} answered HTTP 403: {"error":"forbidden"}`);
  assert.ok(!run.message.includes('tk_secret'));
  assert.ok(run.logs.some((l) => l.level === 'warn' && l.status === 403));
});

test('an unknown template field is refused as "reaction add" refuses it', async () => {
  await assert.rejects(runReaction(MODULE, { topic: 'ops', title: '{{monitor.nmae}}' }), /data\.title uses unknown template field \{\{monitor\.nmae\}\}/);
});

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { blackhole, closedPort, ctx, job, silentPeer, until, type Peer } from '../helpers/peers.js';

let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  mod = await checkLoader().load('tcp-check');
  peer = await silentPeer();
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('tcp-check', data), ctx(ms));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { host: 'a' }), ['data.port is required']);
  assert.match(validate(f, { host: 'a', port: 0 }).join(), 'data.port must be >= 1');
  assert.match(validate(f, { host: 'a', port: 70000 }).join(), 'data.port must be <= 65535');
  assert.match(validate(f, { host: 'a', port: '80' }).join(), 'data.port must be an integer');
  assert.match(validate(f, { host: '', port: 80 }).join(), 'data.host must have at least 1 characters');
  assert.equal(validate(f, { host: 'db.example', port: 5432, timeoutMs: 1000 }), []);
});

test('a listening port is healthy, with the connect time as latency, and the connection is closed', async () => {
  const before = peer.connections;
  const r = await run({ host: '127.0.0.1', port: peer.port });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, `connected to 127.0.0.1:${peer.port}`);
  assert.ok(r.latencyMs! > 0 && r.latencyMs! < 1000);
  assert.ok(r.metrics!.connectMs! >= 0);
  await until(() => peer.connections === before + 1 && peer.open.size === 0);
});

test('a host name is resolved and the lookup timed', async () => {
  const r = await run({ host: 'localhost', port: peer.port });
  assert.is(r.status, 'healthy', r.message);
  assert.ok(r.metrics!.dnsMs! >= 0);
});

test('a closed port fails with connection refused', async () => {
  const port = await closedPort();
  const r = await run({ host: '127.0.0.1', port });
  assert.is(r.status, 'failed');
  assert.is(r.message, `connection refused by 127.0.0.1:${port}`);
});

test('an unknown host fails with a DNS error', async () => {
  const r = await run({ host: 'no-such-host.invalid', port: 80 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^DNS lookup failed/);
});

test('a connect that never completes is cut by the signal', async () => {
  const hole = await blackhole();
  try {
    const started = Date.now();
    const r = await run({ host: '127.0.0.1', port: hole.port }, 250);
    assert.is(r.status, 'failed');
    assert.match(r.message!, new RegExp(`^timed out after \\d+ ms connecting to 127\\.0\\.0\\.1:${hole.port}$`));
    assert.ok(Date.now() - started < 1500);
  } finally {
    hole.close();
  }
});

test('data.timeoutMs cuts the connect before the job deadline', async () => {
  const hole = await blackhole();
  try {
    const started = Date.now();
    const r = await run({ host: '127.0.0.1', port: hole.port, timeoutMs: 150 }, 5000);
    assert.is(r.status, 'failed');
    assert.match(r.message!, 'timed out');
    assert.ok(Date.now() - started < 1000);
  } finally {
    hole.close();
  }
});

test('an already expired signal fails at once', async () => {
  const r = await mod.check(job('tcp-check', { host: '127.0.0.1', port: peer.port }), { signal: AbortSignal.abort(), logger: ctx().logger });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'timed out');
});

test('data the check cannot use gives unknown', async () => {
  assert.is((await run({ host: '127.0.0.1', port: 'x' })).status, 'unknown');
});

test.run();

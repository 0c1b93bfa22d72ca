import { createServer, type Server } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { connectionFailureTests, requireService } from './_services.js';
import { ctx, job, silentPeer, type Peer } from '../helpers/peers.js';

const PORT = 1883;
let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  await requireService('Mosquitto', PORT);
  mod = await checkLoader().load('mqtt');
  peer = await silentPeer();
});

test.after(() => peer.close());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('mqtt', data), ctx(ms));

/** A broker stand-in that answers every CONNECT with a CONNACK refusing it (MQTT 3.1.1 return code `rc`); a real broker needs its configuration changed to refuse. */
async function refusingBroker(rc: number): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.once('data', () => socket.write(Buffer.from([0x20, 0x02, 0x00, rc]))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, { port: 1883 }), ['data.host is required']);
  assert.match(validate(f, { host: 'a', port: -1 }).join(), 'data.port must be >= 1');
  assert.match(validate(f, { host: 'a', protocolVersion: 6 }).join(), 'data.protocolVersion must be one of 3, 4, 5');
  assert.match(validate(f, { host: 'a', clientId: '' }).join(), 'data.clientId must have at least 1 characters');
  assert.match(validate(f, { host: 'a', topic: 'x' }).join(), 'data.topic is not a known field');
  assert.ok(f.properties!.password!.secret);
  assert.equal(validate(f, { host: 'broker', port: 8883, username: 'u', password: 'p', clientId: 'c', tls: true, protocolVersion: 5, timeoutMs: 900 }), []);
});

test('a live broker answers CONNACK, with its time as a metric', async () => {
  const r = await run({ host: '127.0.0.1', port: PORT });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, `CONNACK from 127.0.0.1:${PORT}`);
  assert.ok(r.metrics!.connackMs! > 0 && r.latencyMs! < 1000);
  const v5 = await run({ host: '127.0.0.1', clientId: 'cr-test-client', protocolVersion: 5 });
  assert.is(v5.status, 'healthy', v5.message);
});

test('a CONNACK that refuses the client fails, naming the reason', async () => {
  const broker = await refusingBroker(5);
  try {
    const r = await run({ host: '127.0.0.1', port: broker.port, username: 'u', password: 'wrong' });
    assert.is(r.status, 'failed');
    assert.is(r.message, `127.0.0.1:${broker.port} refused the client in CONNACK: Not authorized (code 5)`);
  } finally {
    broker.server.close();
  }
});

connectionFailureTests(run, { host: '127.0.0.1' }, 'waiting for CONNACK from TARGET', () => peer);

test('data the check cannot use gives unknown', async () => {
  assert.is((await run({ host: '127.0.0.1', port: 'x' })).status, 'unknown');
});

test.run();

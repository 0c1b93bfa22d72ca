/** Refusals are logged with the peer's address and key, at most one line per address every 10 s, and every one is counted. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curveKeyPair, Push } from 'zeromq';
import { startBroker, type Broker } from '../src/broker/broker.js';
import { freePorts, waitFor } from './helpers/cluster.js';
import { memoryLog } from './helpers/memory-log.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-curve-log-'));
const brokerPair = curveKeyPair();
const log = memoryLog('info');
let broker: Broker;
let jobsPort = 0;
let clients = '';
const sockets: Push[] = [];

test.before(async () => {
  clients = join(dir, 'clients');
  writeFileSync(clients, `${curveKeyPair().publicKey}\n`);
  const ports = await freePorts();
  jobsPort = ports.jobsIn;
  broker = await startBroker({ bind: '127.0.0.1', ports, logger: log.logger, zone: 'log', curve: { pair: brokerPair, clientsFile: clients } });
});

test.after(async () => {
  for (const s of sockets) s.close();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Connects from `source` (a loopback address) with a new foreign key and sends one message. */
function foreign(source: string): string {
  const pair = curveKeyPair();
  const push = new Push({ curveServerKey: brokerPair.publicKey, curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey, linger: 0 });
  push.connect(`tcp://${source}:0;127.0.0.1:${jobsPort}`);
  void push.send('{}').catch(() => undefined);
  sockets.push(push);
  return pair.publicKey;
}

const refusals = () => log.lines.filter((l) => l.msg === 'refused a client whose CURVE key is not in the allowed clients file');

test('five refusals from one address make one log line naming it and the key; another address gets its own line', async () => {
  const first = foreign('127.0.0.2');
  await waitFor(() => refusals().length === 1, 3000, 'the first refusal logged');
  for (let i = 0; i < 4; i++) foreign('127.0.0.2');
  await waitFor(() => broker.counters.get('auth_refused') === 5, 3000, 'five refusals counted');
  assert.is(refusals().length, 1, 'refusals from one address within 10 s are one line');
  assert.is(refusals()[0]!.address, '127.0.0.2');
  assert.is(refusals()[0]!.clientKey, first);
  foreign('127.0.0.3');
  await waitFor(() => refusals().length === 2, 3000, 'a line for the other address');
  assert.is(refusals()[1]!.address, '127.0.0.3');
  assert.is(broker.counters.get('auth_refused'), 6);
});

test('a clients file made unusable is logged on reload and the previous keys are kept', async () => {
  assert.is(broker.reloadClients(), 1);
  writeFileSync(clients, `${curveKeyPair().publicKey}\nnot a key\n`);
  assert.is(broker.reloadClients(), 1, 'the previous key stays allowed');
  const line = log.lines.find((l) => l.msg === 'kept the previous allowed client keys: the clients file could not be used');
  assert.match(String(line?.err), /line 2 of .*clients \("not"\) is not a 40-character Z85 CURVE key/);
  rmSync(clients);
  assert.is(broker.reloadClients(), 1);
  assert.match(String(log.lines.at(-1)?.err), /cannot be read \(ENOENT\)/);
});

test.run();

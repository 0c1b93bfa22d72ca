/** The CURVE settings and key files: what is accepted, and what each wrong setting is told. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { loadCurveSettings, publicKeyOf, readAllowedClients, z85Decode, z85Encode } from '../src/core/curve.js';
import { clientCurve } from '../src/core/socket-options.js';
import { brokerCurve, isLoopback } from '../src/broker/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-curve-settings-'));
const pair = curveKeyPair();
const other = curveKeyPair();
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const refusal = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('Z85 keys decode to 32 bytes and back; the public key is derived from the secret as ZeroMQ makes it', () => {
  for (let i = 0; i < 20; i++) {
    const p = curveKeyPair();
    assert.is(z85Decode(p.publicKey)!.length, 32);
    assert.is(z85Encode(z85Decode(p.secretKey)!), p.secretKey);
    assert.is(publicKeyOf(p.secretKey), p.publicKey);
  }
  assert.is(z85Decode('short'), undefined);
  assert.is(z85Decode(`${pair.publicKey.slice(0, 39)}~`), undefined, '~ is not a Z85 digit');
  assert.is(z85Decode('#'.repeat(40)), undefined, 'a group over 2^32');
});

test('a pair inline or from files; a public key that is not the secret key\'s is refused naming both settings', () => {
  assert.equal(loadCurveSettings({ CLOUDROUTES_CURVE_SECRET_KEY: pair.secretKey }).pair, pair);
  const s = loadCurveSettings({
    CLOUDROUTES_CURVE_SECRET_KEY_FILE: file('a.key', `${pair.secretKey}\n`), CLOUDROUTES_CURVE_PUBLIC_KEY_FILE: file('a.pub', `${pair.publicKey}\n`),
    CLOUDROUTES_BROKER_PUBLIC_KEY_FILE: file('broker.pub', `# the broker\n${other.publicKey}\n`),
  });
  assert.equal(s.pair, pair);
  assert.is(s.brokerPublicKey, other.publicKey);
  const mismatch = refusal(() => loadCurveSettings({ CLOUDROUTES_CURVE_SECRET_KEY: pair.secretKey, CLOUDROUTES_CURVE_PUBLIC_KEY: other.publicKey }));
  assert.is(mismatch.code, 'CR_BAD_CURVE_KEY');
  assert.match(mismatch.message, /CLOUDROUTES_CURVE_PUBLIC_KEY: the public key does not belong to the secret key in CLOUDROUTES_CURVE_SECRET_KEY/);
  assert.match(refusal(() => loadCurveSettings({ CLOUDROUTES_BROKER_PUBLIC_KEY: 'abc' })).message, /CLOUDROUTES_BROKER_PUBLIC_KEY: the broker's public key is not a 40-character Z85/);
  assert.match(refusal(() => loadCurveSettings({ CLOUDROUTES_CURVE_SECRET_KEY_FILE: join(dir, 'missing.key') })).message, /CLOUDROUTES_CURVE_SECRET_KEY_FILE=".*missing\.key" is invalid: the file cannot be read \(ENOENT\)/);
  assert.match(refusal(() => loadCurveSettings({ CLOUDROUTES_CURVE_SECRET_KEY: pair.secretKey, CLOUDROUTES_CURVE_SECRET_KEY_FILE: 'x' })).message, /not both/);
  assert.match(refusal(() => loadCurveSettings({ CLOUDROUTES_CURVE_PUBLIC_KEY: pair.publicKey })).message, /without its secret key/);
});

test('a client needs both its pair and the broker\'s key; a broker with a clients file needs its pair', () => {
  assert.is(clientCurve(loadCurveSettings({})), undefined);
  assert.equal(clientCurve(loadCurveSettings({ CLOUDROUTES_CURVE_SECRET_KEY: pair.secretKey, CLOUDROUTES_BROKER_PUBLIC_KEY: other.publicKey })), { serverKey: other.publicKey, ...pair });
  const noPair = refusal(() => clientCurve(loadCurveSettings({ CLOUDROUTES_BROKER_PUBLIC_KEY: other.publicKey })));
  assert.is(noPair.code, 'CR_CURVE_INCOMPLETE');
  assert.match(noPair.message, /no key pair of its own: set CLOUDROUTES_CURVE_SECRET_KEY_FILE/);
  assert.match(refusal(() => clientCurve(loadCurveSettings({ CLOUDROUTES_CURVE_SECRET_KEY: pair.secretKey }))).message, /CLOUDROUTES_BROKER_PUBLIC_KEY/);
  assert.match(refusal(() => brokerCurve(loadCurveSettings({ CLOUDROUTES_CURVE_CLIENTS: 'clients' }))).message, /the broker has no key pair/);
});

test('a clients file: one key a line, comment lines, blank lines, words after a key; a bad line is named by number', () => {
  // "#" is a Z85 digit: a key holding one is still read whole.
  let withHash = curveKeyPair().publicKey;
  while (!withHash.includes('#')) withHash = curveKeyPair().publicKey;
  const allowed = readAllowedClients(file('clients', `# workers\n\n${pair.publicKey} worker-1\n  ${other.publicKey}\n${withHash}\n`));
  assert.equal([...allowed].sort(), [pair.publicKey, other.publicKey, withHash].map((k) => z85Decode(k)!.toString('hex')).sort());
  const bad = refusal(() => readAllowedClients(file('bad', `${pair.publicKey}\nnot-a-key\n`)));
  assert.is(bad.code, 'CR_BAD_CURVE_KEY');
  assert.match(bad.message, /line 2 of .*bad \("not-a-key"\) is not a 40-character Z85 CURVE key/);
});

test('only loopback addresses may go without CURVE', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopback(a), a);
  for (const a of ['0.0.0.0', '*', '10.0.0.1', '::', '128.0.0.1', '127.0.0.1.example.com']) assert.not.ok(isLoopback(a), a);
});

test.run();

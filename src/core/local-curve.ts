/** CURVE for a cluster on one machine (`cloudroutes dev`, the bench): a broker pair and one pair shared by the local clients, under <data dir>/keys, made once and reused. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCurveSettings, readAllowedClients, writeKeyPair, z85Decode, type CurveSettings } from './curve.js';

export interface LocalCurve {
  dir: string;
  /** The environment a child process gets on top of dev's own: the broker's settings or a client's. */
  envFor(process: string): NodeJS.ProcessEnv;
}

// Inline keys in dev's own environment would clash with the files named here ("set X or X_FILE, not both").
const CLEARED = ['CLOUDROUTES_CURVE_SECRET_KEY', 'CLOUDROUTES_CURVE_PUBLIC_KEY', 'CLOUDROUTES_BROKER_PUBLIC_KEY', 'CLOUDROUTES_CURVE_PUBLIC_KEY_FILE'];

function ensurePair(dir: string, name: string): void {
  if (!existsSync(join(dir, `${name}.key`))) writeKeyPair(dir, name, true);
}

/** Makes (or reuses) the keys and the allowed clients file, with the local clients' key in it. */
export function prepareLocalCurve(dataDir: string): LocalCurve {
  const dir = join(dataDir, 'keys');
  ensurePair(dir, 'broker');
  ensurePair(dir, 'local');
  const clients = join(dir, 'clients');
  const local = readFileSync(join(dir, 'local.pub'), 'utf8').trim();
  if (!existsSync(clients)) writeFileSync(clients, '# public keys of the clients this broker accepts, one a line; "kill -HUP" the broker after a change\n', { mode: 0o600 });
  // Keys added by hand for other machines stay; the local clients' key is added when missing.
  if (!readAllowedClients(clients).has(z85Decode(local)!.toString('hex'))) appendFileSync(clients, `${local}\n`);
  const broker = { CLOUDROUTES_CURVE_SECRET_KEY_FILE: join(dir, 'broker.key'), CLOUDROUTES_CURVE_CLIENTS: clients, CLOUDROUTES_BROKER_PUBLIC_KEY_FILE: undefined };
  const client = { CLOUDROUTES_CURVE_SECRET_KEY_FILE: join(dir, 'local.key'), CLOUDROUTES_BROKER_PUBLIC_KEY_FILE: join(dir, 'broker.pub'), CLOUDROUTES_CURVE_CLIENTS: undefined };
  const cleared = Object.fromEntries(CLEARED.map((n) => [n, undefined]));
  return { dir, envFor: (name) => ({ ...cleared, ...(name === 'broker' ? broker : client) }) };
}

/**
 * The CURVE settings of a command run by hand next to `cloudroutes dev` (monitor test sends a job to its broker):
 * its own settings when it has any, else the local clients' pair dev made under <data dir>/keys, else none.
 */
export function localClientCurveSettings(dataDir: string, env: NodeJS.ProcessEnv = process.env): CurveSettings {
  const own = loadCurveSettings(env);
  if (own.pair || own.brokerPublicKey) return own;
  const dir = join(dataDir, 'keys');
  const key = join(dir, 'local.key');
  const broker = join(dir, 'broker.pub');
  if (!existsSync(key) || !existsSync(broker)) return own;
  return loadCurveSettings({ ...env, CLOUDROUTES_CURVE_SECRET_KEY_FILE: key, CLOUDROUTES_BROKER_PUBLIC_KEY_FILE: broker });
}

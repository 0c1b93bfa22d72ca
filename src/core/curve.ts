/** CURVE keys (Z85, as ZeroMQ writes them) and the settings that give each process its pair and the broker's public key. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { errors } from './errors.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const DIGIT = new Map([...ALPHABET].map((c, i) => [c, i]));

/** The 32 bytes a 40-character Z85 key stands for; undefined when it is not one. */
export function z85Decode(text: string): Buffer | undefined {
  if (text.length !== 40) return undefined;
  const out = Buffer.alloc(32);
  for (let i = 0; i < 40; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const d = DIGIT.get(text[i + j]!);
      if (d === undefined) return undefined;
      value = value * 85 + d;
    }
    if (value > 0xffffffff) return undefined;
    out.writeUInt32BE(value, (i / 5) * 4);
  }
  return out;
}

/** The Z85 text of 32 bytes. */
export function z85Encode(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = bytes.readUInt32BE(i);
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = ALPHABET[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

// PKCS#8 prefix of a raw X25519 private key: CURVE's keys are Curve25519 keys, so node:crypto derives the public half.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The Z85 public key that belongs to a Z85 secret key. */
export function publicKeyOf(secretKey: string, setting = 'CLOUDROUTES_CURVE_SECRET_KEY'): string {
  const raw = z85Decode(secretKey);
  if (!raw) throw errors.badCurveKey(setting, 'the secret key is not a Z85 CURVE key (40 characters); make one with "cloudroutes keys generate"');
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, raw]), format: 'der', type: 'pkcs8' });
  return z85Encode(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32));
}

export interface CurvePair {
  publicKey: string;
  secretKey: string;
}

/** What CURVE settings this process has; all undefined when CURVE is off. */
export interface CurveSettings {
  /** This process's own pair. */
  pair?: CurvePair;
  /** The broker's public key (controls, workers, sinks, web). */
  brokerPublicKey?: string;
  /** The broker's file of allowed client public keys. */
  clientsFile?: string;
}

/**
 * The key of each line of a key file with its line number, skipping blank lines and comments. `#` is a Z85
 * digit inside a key (never its first), so only a line that begins with it is a comment; words after a key are ignored.
 */
function keyLines(text: string): { key: string; line: number }[] {
  const out: { key: string; line: number }[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const key = line.trim().split(/\s+/)[0] ?? '';
    if (key && !key.startsWith('#')) out.push({ key, line: i + 1 });
  }
  return out;
}

const KEY_HELP = 'a 40-character Z85 CURVE key as "cloudroutes keys generate" writes it';

/** A setting given inline or as `<NAME>_FILE` naming a file (first line used). */
function keySetting(env: NodeJS.ProcessEnv, name: string): { value: string; from: string } | undefined {
  const inline = env[name]?.trim();
  const file = env[`${name}_FILE`]?.trim();
  if (inline && file) throw errors.badSetting(name, inline, `set ${name} or ${name}_FILE, not both`);
  if (inline) return { value: inline, from: name };
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw errors.badSetting(`${name}_FILE`, file, `the file cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return { value: keyLines(text)[0]?.key ?? '', from: `${name}_FILE` };
}

function validKey(s: { value: string; from: string }, what: string): string {
  if (!z85Decode(s.value)) throw errors.badCurveKey(s.from, `${what} is not ${KEY_HELP}`);
  return s.value;
}

/** Reads and checks the CURVE settings of this process. */
export function loadCurveSettings(env: NodeJS.ProcessEnv = process.env): CurveSettings {
  const secret = keySetting(env, 'CLOUDROUTES_CURVE_SECRET_KEY');
  const pub = keySetting(env, 'CLOUDROUTES_CURVE_PUBLIC_KEY');
  const broker = keySetting(env, 'CLOUDROUTES_BROKER_PUBLIC_KEY');
  const clients = env.CLOUDROUTES_CURVE_CLIENTS?.trim() || undefined;
  const out: CurveSettings = { clientsFile: clients };
  if (pub && !secret) throw errors.badCurveKey(pub.from, 'a public key without its secret key: set CLOUDROUTES_CURVE_SECRET_KEY (or _FILE) too');
  if (secret) {
    const secretKey = validKey(secret, 'the secret key');
    const derived = publicKeyOf(secretKey);
    if (pub && validKey(pub, 'the public key') !== derived) {
      throw errors.badCurveKey(pub.from, `the public key does not belong to the secret key in ${secret.from} (its public key is ${derived}): give the two files of one "cloudroutes keys generate"`);
    }
    out.pair = { secretKey, publicKey: derived };
  }
  if (broker) out.brokerPublicKey = validKey(broker, "the broker's public key");
  return out;
}

/** The allowed client keys of a clients file, as raw bytes in hex (what ZAP hands over). */
export function readAllowedClients(file: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw errors.badSetting('CLOUDROUTES_CURVE_CLIENTS', file, `the file of allowed client keys cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const allowed = new Set<string>();
  for (const { key, line } of keyLines(text)) {
    const raw = z85Decode(key);
    if (!raw) throw errors.badCurveKey('CLOUDROUTES_CURVE_CLIENTS', `line ${line} of ${file} ("${key.slice(0, 50)}") is not ${KEY_HELP} (one public key a line, # comments)`);
    allowed.add(raw.toString('hex'));
  }
  return allowed;
}

export interface WrittenPair {
  publicKey: string;
  secretKeyFile: string;
  publicKeyFile: string;
}

/** Writes a new pair as `<dir>/<name>.key` (secret, mode 0600) and `<dir>/<name>.pub`; an existing file is kept unless `force`. */
export function writeKeyPair(dir: string, name: string, force = false): WrittenPair {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw errors.badSetting('--name', name, 'use letters, digits, dots, dashes and underscores (e.g. broker, worker-1)');
  const pair = curveKeyPair();
  const secretKeyFile = resolve(dir, `${name}.key`);
  const publicKeyFile = resolve(dir, `${name}.pub`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (file: string, text: string, mode: number) => {
    try {
      writeFileSync(file, text + '\n', { mode, flag: force ? 'w' : 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw errors.keyFileExists(file);
      throw err;
    }
    // A replaced file keeps its old mode otherwise; the umask still applies, so dev's 077 keeps its data folder owner-only.
    chmodSync(file, mode & ~process.umask());
  };
  // Both checked before either is written, so a refusal leaves no half pair.
  if (!force) for (const f of [secretKeyFile, publicKeyFile]) if (existsSync(f)) throw errors.keyFileExists(f);
  write(secretKeyFile, pair.secretKey, 0o600);
  write(publicKeyFile, pair.publicKey, 0o644);
  return { publicKey: pair.publicKey, secretKeyFile, publicKeyFile };
}

/** AES-256-GCM encryption of the secret fields of monitor and reaction data. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errors } from './errors.js';

const PREFIX = 'enc:v1:';

/** Key file that `cloudroutes dev` creates, used when CLOUDROUTES_SECRET_KEY is not set. */
export function secretKeyPath(dataDir: string): string {
  return resolve(dataDir, 'secret.key');
}

/** The 32-byte key from the setting (64 hex chars), or from the data dir's key file, or undefined. */
export function resolveSecretKey(setting: string | undefined, dataDir: string): Buffer | undefined {
  let hex = setting;
  if (!hex) {
    try {
      hex = readFileSync(secretKeyPath(dataDir), 'utf8').trim();
    } catch {
      return undefined;
    }
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw errors.secretKey('must be 64 hex characters (32 bytes)');
  return Buffer.from(hex, 'hex');
}

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** How a stored secret is shown to people and API clients; sent back in an edit, it keeps the stored value. */
export const SECRET_MASK = '(secret)';

/** A copy of `data` with encrypted values shown as SECRET_MASK rather than as ciphertext. */
export function maskSecrets(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, isEncrypted(v) ? SECRET_MASK : v]));
}

export function encryptValue(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return PREFIX + [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join(':');
}

export function decryptValue(key: Buffer, text: string): unknown {
  const [iv, tag, body] = text.slice(PREFIX.length).split(':').map((p) => Buffer.from(p, 'base64'));
  if (!iv || !tag || !body) throw errors.secretKey('cannot decrypt a malformed secret value');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  try {
    return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8'));
  } catch {
    throw errors.secretKey('does not match the key these secrets were encrypted with');
  }
}

/** Returns a copy of `data` with the named fields encrypted (already encrypted ones are kept). */
export function encryptFields(key: Buffer | undefined, data: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out = { ...data };
  for (const f of fields) {
    if (out[f] === undefined || isEncrypted(out[f])) continue;
    if (!key) throw errors.secretKey(`is not set, and field "${f}" is secret`);
    out[f] = encryptValue(key, out[f]);
  }
  return out;
}

/** Returns a copy of `data` with every encrypted field decrypted. */
export function decryptFields(key: Buffer | undefined, data: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [f, v] of Object.entries(data)) {
    if (!isEncrypted(v)) continue;
    if (!key) throw errors.secretKey(`is not set, and field "${f}" is encrypted`);
    out ??= { ...data };
    out[f] = decryptValue(key, v);
  }
  return out ?? data;
}

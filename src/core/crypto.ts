/** AES-256-GCM encryption of the secret fields of monitor and reaction data. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errors, type CloudRoutesError } from './errors.js';
import { secretFields } from './schema.js';
import { secretAad, type SecretOwner } from './secret-binding.js';
import type { FieldSchema } from './types.js';

const V1 = 'enc:v1:';
const V2 = 'enc:v2:';

/** Key file that `cloudroutes dev` creates, used when CLOUDROUTES_SECRET_KEY is not set. */
export function secretKeyPath(dataDir: string): string {
  return resolve(dataDir, 'secret.key');
}

const KEY_HEX = /^[0-9a-fA-F]{64}$/;

/** The 32-byte key that `hex` spells; `refused` turns the expected shape into the caller's catalogue error. */
function parseKey(hex: string, refused: (expected: string) => CloudRoutesError): Buffer {
  if (!KEY_HEX.test(hex)) throw refused('64 hex characters (32 bytes)');
  return Buffer.from(hex, 'hex');
}

/** The text of key file `path` without surrounding white space, or undefined when there is no such file. */
function keyFileText(path: string, unreadable: (reason: string) => CloudRoutesError): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unreadable(code ?? (err as Error).message);
  }
}

/** The 32-byte key in file `path` (64 hex characters, as `cloudroutes dev` writes it); `what` names it in errors. */
export function readKeyFile(path: string, what: string): Buffer {
  const unreadable = (reason: string) => errors.badSetting(what, path, `a readable file holding the key (${reason})`);
  const hex = keyFileText(path, unreadable);
  if (hex === undefined) throw unreadable('ENOENT');
  return parseKey(hex, (expected) => errors.badSetting(what, path, `a file holding ${expected}`));
}

/** The 32-byte key from the setting (64 hex chars), or from the data dir's key file, or undefined when neither is there. */
export function resolveSecretKey(setting: string | undefined, dataDir: string): Buffer | undefined {
  if (setting) return parseKey(setting, (expected) => errors.secretKey(`must be ${expected}`));
  const path = secretKeyPath(dataDir);
  const hex = keyFileText(path, (reason) => errors.secretKey(`is not set, and its key file ${path} cannot be read (${reason})`));
  return hex === undefined ? undefined : parseKey(hex, (expected) => errors.secretKey(`is not set, and its key file ${path} does not hold ${expected}`));
}

/** Whether `value` is a stored ciphertext, v1 (no associated data) or v2 (bound to its record, field and destination). */
export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith(V2) || value.startsWith(V1));
}

/** Whether `value` is a ciphertext of the first format, which no associated data binds. */
export function isV1(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(V1);
}

/** How a stored secret is shown to people and API clients; sent back in an edit, it keeps the stored value. */
export const SECRET_MASK = '(secret)';

/** Encrypts `value` as enc:v2 bound to `aad` (see core/secret-binding secretAad). */
export function encryptValue(key: Buffer, value: unknown, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return V2 + [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join(':');
}

/**
 * Decrypts an enc:v2 value bound to `aad`, or an enc:v1 value (bound to nothing); throws CR_SECRET_UNREADABLE naming
 * data.`field` when the key, the record, the field or the destination differ from those it was encrypted for.
 */
export function decryptValue(key: Buffer, text: string, aad: string, field: string): unknown {
  const v1 = isV1(text);
  const parts = text.slice(v1 ? V1.length : V2.length).split(':');
  const [iv, tag, body] = parts.map((p) => Buffer.from(p, 'base64'));
  if (parts.length !== 3 || !iv || iv.length !== 12 || !tag || tag.length !== 16 || !body) {
    throw errors.secretUnreadable(field, `it is not a well-formed ${v1 ? 'enc:v1' : 'enc:v2'} value`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  if (!v1) decipher.setAAD(Buffer.from(aad, 'utf8'));
  try {
    return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8'));
  } catch {
    throw errors.secretUnreadable(field, v1 ? 'it was encrypted with another CLOUDROUTES_SECRET_KEY' : 'it was encrypted for another monitor, reaction, field or destination, or with another CLOUDROUTES_SECRET_KEY');
  }
}

/** Returns a copy of `data` with the schema's secret fields encrypted for `owner` (values already encrypted are kept). */
export function encryptFields(key: Buffer | undefined, data: Record<string, unknown>, schema: FieldSchema, owner: SecretOwner): Record<string, unknown> {
  const out = { ...data };
  for (const f of secretFields(schema)) {
    if (out[f] === undefined || isEncrypted(out[f])) continue;
    if (!key) throw errors.secretKey(`is not set, and field "${f}" is secret`);
    out[f] = encryptValue(key, out[f], secretAad(owner, f, schema, data));
  }
  return out;
}

/**
 * Returns a copy of `data` with the schema's secret fields decrypted for `owner`, the destination read from `data`
 * itself. Any other value is left as it is, even one that looks encrypted: a ciphertext pasted elsewhere stays text.
 */
export function decryptFields(key: Buffer | undefined, data: Record<string, unknown>, schema: FieldSchema, owner: SecretOwner): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const f of secretFields(schema)) {
    const v = data[f];
    if (!isEncrypted(v)) continue;
    if (!key) throw errors.secretKey(`is not set, and field "${f}" is encrypted`);
    out ??= { ...data };
    out[f] = decryptValue(key, v, secretAad(owner, f, schema, data), f);
  }
  return out ?? data;
}

/** Secrets as the first format wrote them (enc:v1, AES-256-GCM without associated data), to show old stores keep working. */
import { createCipheriv, randomBytes } from 'node:crypto';

/** `value` encrypted as enc:v1 with `key`. */
export function encryptV1(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `enc:v1:${[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join(':')}`;
}

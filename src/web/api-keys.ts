/** API keys: made here, shown once, stored as a SHA-256 hash. */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey, Store } from '../store/store.js';
import { newId } from '../manage/ids.js';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key; returns the record (stored) and the key itself (never stored). */
export async function createApiKey(store: Store, name: string, readOnly: boolean): Promise<{ record: ApiKey; key: string }> {
  const key = `cr_${randomBytes(24).toString('base64url')}`;
  const record: ApiKey = { id: newId('k'), name, hash: hashKey(key), readOnly, createdAt: Date.now() };
  await store.putApiKey(record);
  return { record, key };
}

/** Looks keys up with a short cache, so a busy API does not ask the store on every call. */
export class ApiKeyCache {
  private readonly cache = new Map<string, { key: ApiKey | undefined; at: number }>();

  constructor(private readonly store: () => Promise<Store>, private readonly ttlMs = 5000) {}

  async find(presented: string): Promise<ApiKey | undefined> {
    const hash = hashKey(presented);
    const hit = this.cache.get(hash);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.key;
    const key = await (await this.store()).apiKeyByHash(hash);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { key, at: Date.now() });
    return key;
  }
}

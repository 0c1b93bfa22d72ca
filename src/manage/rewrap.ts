/** `cloudroutes secrets rewrap`: every stored secret as enc:v2 under the current key, from enc:v1 or from an old key. */
import { decryptValue, encryptValue, isEncrypted, isV1 } from '../core/crypto.js';
import { CloudRoutesError, errors } from '../core/errors.js';
import type { PluginLoader } from '../core/plugins.js';
import { secretFields } from '../core/schema.js';
import { secretAad, type SecretOwner } from '../core/secret-binding.js';
import type { CheckModule, FieldSchema, Monitor, Reaction, ReactionModule } from '../core/types.js';
import type { Store } from '../store/store.js';

/** A record whose secrets were (or, in a dry run, would be) rewritten. */
export interface Rewrapped {
  kind: SecretOwner['kind'];
  id: string;
  name: string;
  /** Its secret fields that were rewritten. */
  fields: string[];
}

export interface RewrapReport {
  dryRun: boolean;
  rewrapped: Rewrapped[];
  /** Records edited or removed while rewrap ran: left as that edit wrote them (run rewrap again for them). */
  skipped: Rewrapped[];
  /** Records whose secrets were already enc:v2 under the current key (or that have none). */
  unchanged: number;
}

export interface RewrapOptions {
  /** The key the secrets were encrypted with, when it is not the current one (key rotation). */
  oldKey?: Buffer;
  dryRun?: boolean;
}

interface Planned {
  record: Monitor | Reaction;
  ref: Rewrapped;
  data: Record<string, unknown>;
}

/** Decrypts `text` with the first key that opens it; undefined when none does. */
function open(keys: Buffer[], text: string, aad: string, field: string): { value: unknown; key: Buffer } | undefined {
  for (const key of keys) {
    try {
      return { value: decryptValue(key, text, aad, field), key };
    } catch (err) {
      if (!(err instanceof CloudRoutesError) || err.code !== 'CR_SECRET_UNREADABLE') throw err;
    }
  }
  return undefined;
}

/** The record's data with each secret not yet enc:v2 under `key` (plain ones too) rewritten; the fields rewritten; problems pushed to `problems`. */
function rewrapData(schema: FieldSchema, owner: SecretOwner, data: Record<string, unknown>, key: Buffer, oldKey: Buffer | undefined, problems: string[], label: string) {
  const out = { ...data };
  const fields: string[] = [];
  for (const f of secretFields(schema)) {
    const text = data[f];
    if (text === undefined) continue;
    const aad = secretAad(owner, f, schema, data);
    if (!isEncrypted(text)) {
      // Written to the store by other means than CloudRoutes' own: encrypted now, as a save would.
      out[f] = encryptValue(key, text, aad);
      fields.push(f);
      continue;
    }
    const opened = open(oldKey ? [key, oldKey] : [key], text, aad, f);
    if (!opened) {
      problems.push(`${label}: data.${f} cannot be decrypted with ${oldKey ? 'the current key nor the old one' : 'CLOUDROUTES_SECRET_KEY (give the key it was encrypted with as --old-key-file)'}`);
      continue;
    }
    if (!isV1(text) && opened.key === key) continue;
    out[f] = encryptValue(key, opened.value, aad);
    fields.push(f);
  }
  return { data: out, fields };
}

/**
 * Rewrites every monitor's and reaction's secrets as enc:v2 under `key` (bound to the record, field and destination),
 * decrypting enc:v1 values and, with `oldKey`, values of the old key. Idempotent. A record edited or removed after it
 * was read is skipped (reported as such), not overwritten. When any value cannot be decrypted,
 * or a record's module cannot be loaded, nothing is written (CR_REWRAP_REFUSED naming each record and field).
 */
export async function rewrapSecrets(
  store: Store, checks: PluginLoader<CheckModule>, actions: PluginLoader<ReactionModule>, key: Buffer, opts: RewrapOptions = {},
): Promise<RewrapReport> {
  const problems: string[] = [];
  const planned: Planned[] = [];
  let unchanged = 0;
  const records: (Monitor | Reaction)[] = [...(await store.listMonitors()), ...(await store.listReactions())];
  for (const record of records) {
    const owner: SecretOwner = 'ctype' in record ? { kind: 'monitor', id: record.id } : { kind: 'reaction', id: record.id };
    const label = `${owner.kind} ${record.id} ("${record.name}")`;
    let schema: FieldSchema;
    try {
      schema = 'ctype' in record ? (await checks.load(record.ctype)).meta.fields : (await actions.load(record.rtype)).meta.fields;
    } catch (err) {
      problems.push(`${label}: its module cannot be loaded, so which fields are secret is unknown (${(err as Error).message})`);
      continue;
    }
    const { data, fields } = rewrapData(schema, owner, record.data, key, opts.oldKey, problems, label);
    if (fields.length) planned.push({ record, data, ref: { kind: owner.kind, id: record.id, name: record.name, fields } });
    else unchanged++;
  }
  if (problems.length) throw errors.rewrapRefused(problems.length > 20 ? [...problems.slice(0, 20), `and ${problems.length - 20} more`] : problems);
  if (opts.dryRun) return { dryRun: true, rewrapped: planned.map((p) => p.ref), skipped: [], unchanged };
  const report: RewrapReport = { dryRun: false, rewrapped: [], skipped: [], unchanged };
  const now = Date.now();
  for (const { record, data, ref } of planned) {
    // Written as any edit is, so the bridges carry the new ciphertexts into every zone's Redis; only over the record
    // as it was read, so an edit made since is not reverted.
    const written = 'ctype' in record
      ? await store.replaceMonitor({ ...record, data, updatedAt: now }, record.updatedAt)
      : await store.replaceReaction({ ...record, data, updatedAt: now }, record.updatedAt);
    (written ? report.rewrapped : report.skipped).push(ref);
  }
  return report;
}

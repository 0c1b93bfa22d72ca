/** Export and apply of the whole configuration as one YAML or JSON document (`cloudroutes export | apply`, /api/v1/config). */
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { CloudRoutesError, errors } from '../core/errors.js';
import type { Monitor, Reaction } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { ConfigService, MonitorFields, MonitorInput, ReactionFields, ReactionInput } from './config-service.js';
import { newId } from './ids.js';
import { configDocumentSchema, ID_PATTERN, monitorInputSchema, reactionInputSchema } from './input-schemas.js';

export type DocumentFormat = 'yaml' | 'json';

export const SECRETS_NOTE = 'Secret values are exported encrypted (enc:v2:...), each bound to its record\'s id, its field and where it is sent; they work where CLOUDROUTES_SECRET_KEY is the same key.';

export interface ConfigDocument {
  version: 1;
  note?: string;
  reactions: (ReactionInput & { id: string })[];
  monitors: (MonitorInput & { id: string })[];
}

/** One monitor or reaction that apply creates, updates, leaves or removes. */
export interface ItemRef {
  kind: 'monitor' | 'reaction';
  id: string;
  name: string;
}

export interface ApplyReport {
  dryRun: boolean;
  created: ItemRef[];
  updated: ItemRef[];
  unchanged: ItemRef[];
  removed: ItemRef[];
}

export interface ApplyOptions {
  /** Remove the monitors and reactions the document does not list. */
  prune?: boolean;
  /** Only report what would change. */
  dryRun?: boolean;
}

/** The whole configuration in the store as a document; secret values stay encrypted. */
export async function exportDocument(store: Store): Promise<ConfigDocument> {
  const reactions = (await store.listReactions()).map(({ id, createdAt: _c, updatedAt: _u, ...fields }) => ({ id, ...fields }));
  const monitors = (await store.listMonitors()).map(({ id, name, ctype, interval, reactions: r, zones, quorum, data }) => ({
    id, name, ctype, interval, reactions: r, ...(zones?.length ? { zones } : {}), ...((quorum ?? 1) > 1 ? { quorum } : {}), data,
  }));
  return { version: 1, reactions, monitors };
}

/** The note of a document given to a read-only API key. */
export const NO_SECRETS_NOTE = 'Secret values are left out: this API key is read-only. Export with a read-write key to get them (encrypted).';

/** The document as text: YAML under a header comment, or JSON with the same words in `note`. */
export function renderDocument(doc: ConfigDocument, format: DocumentFormat, note = SECRETS_NOTE): string {
  if (format === 'json') return `${JSON.stringify({ version: doc.version, note, reactions: doc.reactions, monitors: doc.monitors }, null, 2)}\n`;
  const yaml = new YAML.Document(doc);
  yaml.commentBefore = ` CloudRoutes configuration, from "cloudroutes export". Intervals and frequencies are in seconds.\n ${note}\n Apply it with "cloudroutes apply FILE" or POST /api/v1/config.`;
  return yaml.toString({ lineWidth: 0 });
}

/** Parses a document written in YAML or JSON (JSON is YAML too); throws CR_BAD_DOCUMENT naming the line. */
export function parseDocument(text: string): unknown {
  try {
    return YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw withDocField(errors.badDocument([(err as Error).message.split('\n')[0]!]), '');
  }
}

interface Problem {
  field: string;
  message: string;
}

interface Planned<T, F> {
  path: string;
  item: Record<string, unknown>;
  id: string;
  existing?: T;
  fields?: F;
}

function withDocField(err: CloudRoutesError, field: string): CloudRoutesError {
  err.field = field || undefined;
  return err;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The document's two lists, with a problem for each thing that is not where or what it should be. */
function lists(doc: unknown, problems: Problem[]): { reactions: Record<string, unknown>[]; monitors: Record<string, unknown>[] } {
  const out = { reactions: [] as Record<string, unknown>[], monitors: [] as Record<string, unknown>[] };
  if (!isObject(doc)) {
    problems.push({ field: '', message: 'the document must be a mapping with the lists "reactions" and "monitors"' });
    return out;
  }
  for (const key of Object.keys(doc)) {
    if (!(key in configDocumentSchema.properties)) problems.push({ field: key, message: `${key} is not a known field (version, note, reactions, monitors)` });
  }
  if (doc.version !== undefined && doc.version !== 1) problems.push({ field: 'version', message: `version ${JSON.stringify(doc.version)} is not supported: use 1` });
  for (const [kind, schema] of [['reactions', reactionInputSchema], ['monitors', monitorInputSchema]] as const) {
    const items = doc[kind] ?? [];
    if (!Array.isArray(items)) {
      problems.push({ field: kind, message: `${kind} must be a list` });
      continue;
    }
    items.forEach((item: unknown, i) => {
      const path = `${kind}[${i}]`;
      if (!isObject(item)) return problems.push({ field: path, message: `${path} must be a mapping` });
      for (const key of Object.keys(item)) {
        if (key !== 'id' && !(key in schema.properties)) problems.push({ field: `${path}.${key}`, message: `${path}.${key} is not a known field` });
      }
      out[kind].push(item);
    });
  }
  return out;
}

/** Decides each item's id: its own, else that of the one stored record with its name, else a new one. */
function assignIds<T extends Monitor | Reaction, F>(kind: 'monitor' | 'reaction', items: Record<string, unknown>[], stored: T[], problems: Problem[]): Planned<T, F>[] {
  const byId = new Map(stored.map((s) => [s.id, s]));
  const claimed = new Set<string>();
  const named = new Set<string>();
  const planned = items.map((item, i): Planned<T, F> => ({ path: `${kind}s[${i}]`, item, id: '' }));
  for (const p of planned) {
    if (p.item.id === undefined) continue;
    if (typeof p.item.id !== 'string' || !new RegExp(ID_PATTERN[kind]).test(p.item.id)) {
      problems.push({ field: `${p.path}.id`, message: `${p.path}.id ${JSON.stringify(p.item.id)} is not a ${kind} id (${ID_PATTERN[kind]})` });
    } else if (claimed.has(p.item.id)) {
      problems.push({ field: `${p.path}.id`, message: `${p.path}.id "${p.item.id}" is listed twice` });
    }
    p.id = String(p.item.id);
    claimed.add(p.id);
  }
  for (const p of planned) {
    if (p.item.id !== undefined) continue;
    const name = typeof p.item.name === 'string' ? p.item.name.trim() : '';
    if (named.has(name)) problems.push({ field: `${p.path}.id`, message: `${p.path}: another ${kind} without an id is named "${name}"; give them ids` });
    named.add(name);
    const same = stored.filter((s) => s.name === name && !claimed.has(s.id));
    if (same.length > 1) problems.push({ field: `${p.path}.id`, message: `${p.path}: ${same.length} stored ${kind}s are named "${name}"; give the id of the one meant` });
    p.id = same[0]?.id ?? newId(kind === 'monitor' ? 'm' : 'r');
    claimed.add(p.id);
  }
  for (const p of planned) p.existing = byId.get(p.id);
  return planned;
}

/** Runs one item's check, turning a usage error into a problem that names the item and its field. */
async function checked<T, F>(p: Planned<T, F>, problems: Problem[], check: () => Promise<F>): Promise<void> {
  try {
    p.fields = await check();
  } catch (err) {
    if (!(err instanceof CloudRoutesError) || !err.usage) throw err;
    const name = typeof p.item.name === 'string' ? ` "${p.item.name}"` : '';
    problems.push({ field: `${p.path}${err.field ? `.${err.field}` : ''}`, message: `${p.path}${name}: ${err.message}` });
  }
}

const monitorShape = (m: MonitorFields) => [m.name, m.ctype, m.interval, m.reactions, m.zones ?? [], m.quorum ?? 1];
const reactionShape = (r: ReactionFields) => [r.name, r.rtype, r.trigger, r.frequency, r.callOn, r.once, r.kind ?? 'notify', r.maxRuns, r.per, r.target, r.dryRun === true, r.verifyEvery, r.verifyFor, r.breaker, r.breakerReset, r.escalatesFrom];


/**
 * Makes the store hold what the document lists: creates what is missing, updates what differs, leaves what is the
 * same untouched and, with `prune`, removes what it does not list. The whole document is checked first; with any
 * problem nothing changes (CR_BAD_DOCUMENT naming each item and field).
 */
export async function applyDocument(service: ConfigService, store: Store, doc: unknown, opts: ApplyOptions = {}): Promise<ApplyReport> {
  const problems: Problem[] = [];
  const items = lists(doc, problems);
  const [storedReactions, storedMonitors] = await Promise.all([store.listReactions(), store.listMonitors()]);
  const reactions = assignIds<Reaction, ReactionFields>('reaction', items.reactions, storedReactions, problems);
  const monitors = assignIds<Monitor, MonitorFields>('monitor', items.monitors, storedMonitors, problems);
  // Ladders are checked against the document's reactions, and the stored ones it keeps.
  const rungs = new Map<string, Pick<Reaction, 'id' | 'escalatesFrom'>>(opts.prune ? [] : storedReactions.map((r) => [r.id, r]));
  for (const r of reactions) rungs.set(r.id, { id: r.id, escalatesFrom: (r.item as { escalatesFrom?: string }).escalatesFrom });
  const rungOf = async (id: string) => rungs.get(id);
  for (const r of reactions) await checked(r, problems, () => service.checkReaction(r.item as unknown as ReactionInput, r.existing, r.id, rungOf));
  const usable = new Set([...reactions.map((r) => r.id), ...(opts.prune ? [] : storedReactions.map((r) => r.id))]);
  for (const m of monitors) {
    await checked(m, problems, () => service.checkMonitor(m.item as unknown as MonitorInput, { id: m.id, existing: m.existing, reactionExists: (id) => usable.has(id), rungOf }));
  }
  if (problems.length) {
    const shown = problems.slice(0, 20).map((p) => p.message);
    if (problems.length > 20) shown.push(`and ${problems.length - 20} more`);
    throw withDocField(errors.badDocument(shown), problems[0]!.field);
  }

  const report: ApplyReport = { dryRun: opts.dryRun === true, created: [], updated: [], unchanged: [], removed: [] };
  const sort = <T, F extends { name: string }>(kind: ItemRef['kind'], planned: Planned<T, F>[], same: (old: T, fields: F) => boolean) => {
    for (const p of planned) {
      const ref = { kind, id: p.id, name: p.fields!.name };
      (!p.existing ? report.created : same(p.existing, p.fields!) ? report.unchanged : report.updated).push(ref);
    }
  };
  sort('reaction', reactions, (old: Reaction, f) => isDeepStrictEqual(reactionShape(old), reactionShape(f)) && isDeepStrictEqual(old.data, f.data));
  sort('monitor', monitors, (old: Monitor, f) => isDeepStrictEqual(monitorShape(old), monitorShape(f)) && isDeepStrictEqual(old.data, f.data));
  const listed = new Set([...reactions, ...monitors].map((p) => p.id));
  const unlisted = (opts.prune ? [...storedMonitors, ...storedReactions] : []).filter((s) => !listed.has(s.id));
  for (const s of unlisted) report.removed.push({ kind: 'ctype' in s ? 'monitor' : 'reaction', id: s.id, name: s.name });
  if (report.dryRun) return report;

  const changed = new Set([...report.created, ...report.updated].map((r) => r.id));
  for (const r of reactions) if (changed.has(r.id)) await service.saveReaction(r.id, r.fields!, r.existing);
  for (const m of monitors) if (changed.has(m.id)) await service.saveMonitor(m.id, m.fields!, m.existing);
  // Monitors first, so that no reaction being removed is still in use.
  for (const s of report.removed.filter((r) => r.kind === 'monitor')) await service.removeMonitor(s.id);
  for (const s of report.removed.filter((r) => r.kind === 'reaction')) await service.removeReaction(s.id);
  return report;
}

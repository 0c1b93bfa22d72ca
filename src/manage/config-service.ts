/** Validated creation, update and removal of monitors and reactions in the store of record (used by the CLI, the API and apply). */
import { isDeepStrictEqual } from 'node:util';
import { SECRET_MASK, decryptFields, decryptValue, encryptFields, isEncrypted, isV1 } from '../core/crypto.js';
import { CloudRoutesError, errors } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { DEFAULT_FIX_BUDGET, DEFAULT_FIX_LOOP } from '../core/limits.js';
import { monitorRecordError, reactionRecordError } from '../core/record-check.js';
import type { PluginLoader } from '../core/plugins.js';
import { fieldProblems, secretFields } from '../core/schema.js';
import { secretAad, secretDestination, transportChange, type SecretOwner } from '../core/secret-binding.js';
import { templateFieldProblems } from '../core/template.js';
import type { CallOn, ReactionKind, CheckModule, FieldSchema, Monitor, Reaction, ReactionModule } from '../core/types.js';
import type { Store } from '../store/store.js';
import { newId } from './ids.js';

export interface MonitorInput {
  name: string;
  ctype: string;
  interval: string | number;
  data: unknown;
  reactions?: string[];
  zones?: string[];
  quorum?: number;
}

export interface ReactionInput {
  name: string;
  rtype: string;
  trigger?: number;
  frequency?: string | number;
  callOn?: string;
  once?: boolean;
  /** fix or notify (default: the module's meta.kind, else notify). */
  kind?: string;
  /** Budget: most runs for one monitor within `per` (a duration); a fix without one gets 3 per 1h. */
  maxRuns?: number;
  per?: string | number;
  /** What it acts on: reactions naming one target share its budget. */
  target?: string;
  /** Decide for real, act on nothing, record what it would have done (the module must declare meta.dryRun). */
  dryRun?: boolean;
  /** A fix's closed loop (durations as text or seconds); defaults in core/limits DEFAULT_FIX_LOOP. */
  verifyEvery?: string | number;
  verifyFor?: string | number;
  breaker?: number;
  breakerReset?: string | number;
  /** The reaction this one is the next rung after: it runs when that one escalates for the monitor. */
  escalatesFrom?: string;
  data: unknown;
}

/** What a ladder check needs of another reaction. */
export type RungOf = (id: string) => Promise<Pick<Reaction, 'id' | 'escalatesFrom'> | undefined>;

/** A monitor's configuration as stored (secret fields encrypted), without its id and times. */
export type MonitorFields = Omit<Monitor, 'id' | 'createdAt' | 'updatedAt'>;
/** A reaction's configuration as stored, without its id and times. */
export type ReactionFields = Omit<Reaction, 'id' | 'createdAt' | 'updatedAt'>;

/** `fields` as record `id`, updated now and created when `existing` was (or now). */
function stamped<F extends object>(id: string, fields: F, existing?: { createdAt: number }): F & { id: string; createdAt: number; updatedAt: number } {
  const now = Date.now();
  return { id, ...fields, createdAt: existing?.createdAt ?? now, updatedAt: now };
}

export interface MonitorCheck {
  /** The monitor's id (new or existing), for modules that complete their data with it. */
  id: string;
  /** The monitor being replaced: secret fields sent as "(secret)" keep its values. */
  existing?: Monitor;
  /** Whether a reaction id may be used; default: it is in the store. */
  reactionExists?: (id: string) => boolean | Promise<boolean>;
  /** How its reactions are read for the ladder check; default: from the store. */
  rungOf?: RungOf;
}

/** Marks `err` as caused by input field `field` unless it names a field already. */
function withField<E extends CloudRoutesError>(err: E, field: string): E {
  err.field ??= field;
  return err;
}

/** Runs `fn`; a CloudRoutesError it throws is marked as caused by input field `field`. */
async function at<T>(field: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof CloudRoutesError ? withField(err, field) : err;
  }
}

function requireName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name.trim()) throw errors.badSetting(`${what} name`, String(name ?? ''), 'give a non-empty --name');
  return name.trim();
}

function asObject(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw errors.badData(what, ['data must be a JSON object']);
  return data as Record<string, unknown>;
}

/** A list of strings without repeats (absent: empty). */
function stringList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw errors.badSetting(name, JSON.stringify(value), 'a list of strings');
  return [...new Set(value as string[])];
}

/** Parses an interval into whole seconds within the limits (core/limits) or throws CR_BAD_INTERVAL. */
export function parseInterval(input: string | number): number {
  let seconds: number;
  try {
    seconds = parseDuration(input);
  } catch {
    throw errors.badInterval(String(input));
  }
  // 0.5 s is refused rather than rounded up to the 1 s it is not.
  if (!(seconds >= 1)) throw errors.badInterval(String(input));
  return Math.round(seconds);
}

export class ConfigService {
  constructor(
    private readonly store: Store,
    private readonly checks: PluginLoader<CheckModule>,
    private readonly actions: PluginLoader<ReactionModule>,
    private readonly secretKey: Buffer | undefined,
  ) {}

  /** Validates a monitor as the CLI and API take it; returns it as it would be stored. Errors name the field at fault. */
  async checkMonitor(input: MonitorInput, opts: MonitorCheck): Promise<MonitorFields> {
    const name = await at('name', () => requireName(input.name, 'monitor'));
    const interval = await at('interval', () => parseInterval(input.interval));
    const previous = opts.existing && { type: opts.existing.ctype, data: opts.existing.data };
    // A module may complete the data first, e.g. generate the token of a webhook or heartbeat monitor.
    const data = await this.storedData(this.checks, input.ctype, 'ctype', input.data, { kind: 'monitor', id: opts.id }, previous, (mod, d) => mod.prepareData?.(d, { id: opts.id }) ?? d);
    const reactions = await at('reactions', () => stringList(input.reactions, 'reactions'));
    const exists = opts.reactionExists ?? (async (id: string) => (await this.store.getReaction(id)) !== undefined);
    for (const id of reactions) if (!(await exists(id))) throw withField(errors.noSuchReaction(id), 'reactions');
    // A rung runs when the reaction before it escalates for this monitor: the monitor must use that one too.
    const rungOf: RungOf = opts.rungOf ?? ((id) => this.store.getReaction(id));
    for (const id of reactions) {
      const from = (await rungOf(id))?.escalatesFrom;
      if (from && !reactions.includes(from)) {
        throw withField(errors.badSetting('reactions', id, `${id} is the next rung after ${from}, which this monitor does not use: add ${from} to its reactions`), 'reactions');
      }
    }
    const zones = await at('zones', () => stringList(input.zones, 'zones'));
    const quorum = input.quorum ?? 1;
    const fields: MonitorFields = { name, ctype: input.ctype, interval, reactions, ...(zones.length ? { zones } : {}), ...(quorum !== 1 ? { quorum } : {}), data };
    // The same check the bridge applies to what it reads back from the store, so what is saved is also run.
    const refused = monitorRecordError({ id: opts.id, ...fields });
    if (refused) throw refused;
    return fields;
  }

  /**
   * Validates a reaction; returns it as it would be stored as reaction `id`. `existing`: the reaction being replaced;
   * `rungOf`: how other reactions are found for its ladder (default: in the store).
   */
  async checkReaction(input: ReactionInput, existing: Reaction | undefined, id: string, rungOf?: RungOf): Promise<ReactionFields> {
    const name = await at('name', () => requireName(input.name, 'reaction'));
    const previous = existing && { type: existing.rtype, data: existing.data };
    const data = await this.storedData(this.actions, input.rtype, 'rtype', input.data, { kind: 'reaction', id }, previous);
    const frequency = await at('frequency', () => {
      try {
        return parseDuration(input.frequency ?? 0);
      } catch (err) {
        throw errors.badSetting('frequency', String(input.frequency).slice(0, 40), (err as Error).message);
      }
    });
    const mod = await this.actions.load(input.rtype);
    const kind = (input.kind ?? mod.meta.kind ?? 'notify') as ReactionKind;
    if (input.dryRun && mod.meta.dryRun !== true) {
      throw withField(errors.badSetting('dry-run', input.rtype, `reaction module "${input.rtype}" does not support dry runs (its meta does not declare dryRun: true)`), 'dryRun');
    }
    const fields: ReactionFields = {
      name, rtype: input.rtype, trigger: input.trigger ?? 1, frequency, callOn: (input.callOn ?? 'failed') as CallOn, once: input.once ?? false,
      kind, ...(await this.budget(input, kind)), ...(input.target !== undefined ? { target: input.target } : {}), ...(input.dryRun ? { dryRun: true } : {}),
      ...(await this.loop(input, kind)), ...(input.escalatesFrom !== undefined ? { escalatesFrom: await this.ladder(id, input.escalatesFrom, rungOf) } : {}), data,
    };
    const refused = reactionRecordError({ id: existing?.id, ...fields });
    if (refused) throw refused;
    return fields;
  }

  /** The reaction's budget as stored: the one given, a fix's default, or none (a notify). */
  private async budget(input: ReactionInput, kind: ReactionKind): Promise<Pick<ReactionFields, 'maxRuns' | 'per'>> {
    if (input.maxRuns === undefined && input.per === undefined) return kind === 'fix' ? { ...DEFAULT_FIX_BUDGET } : {};
    const per = await at('per', () => {
      try {
        return parseDuration(input.per ?? DEFAULT_FIX_BUDGET.per);
      } catch (err) {
        throw errors.badSetting('per', String(input.per).slice(0, 40), (err as Error).message);
      }
    });
    return { maxRuns: input.maxRuns ?? DEFAULT_FIX_BUDGET.maxRuns, per };
  }

  /** `from` as reaction `id`'s escalatesFrom, once it names another reaction and closes no cycle (the error names the cycle). */
  private async ladder(id: string, from: string, rungOf: RungOf = (r) => this.store.getReaction(r)): Promise<string> {
    const bad = (why: string) => withField(errors.badSetting('escalates-from', from.slice(0, 100), why), 'escalatesFrom');
    if (from === id) throw bad('a reaction cannot be the next rung after itself');
    const path = [id, from];
    for (let cur = await rungOf(from); ; cur = await rungOf(cur.escalatesFrom)) {
      if (!cur) throw withField(errors.noSuchReaction(path[path.length - 1]!), 'escalatesFrom');
      if (!cur.escalatesFrom) return from;
      path.push(cur.escalatesFrom);
      if (cur.escalatesFrom === id) throw bad(`it would close a cycle: ${path.reverse().join(' -> ')}`);
      if (path.length > 100) throw bad('the ladder it joins has more than 100 rungs');
    }
  }

  /** A fix's closed loop as stored: what was given, the rest from DEFAULT_FIX_LOOP; a notify has none. */
  private async loop(input: ReactionInput, kind: ReactionKind): Promise<Pick<ReactionFields, 'verifyEvery' | 'verifyFor' | 'breaker' | 'breakerReset'>> {
    const given = [input.verifyEvery, input.verifyFor, input.breaker, input.breakerReset].some((v) => v !== undefined);
    if (kind !== 'fix' && !given) return {};
    const seconds = (field: 'verifyEvery' | 'verifyFor' | 'breakerReset', option: string) => at(field, () => {
      const v = input[field];
      try {
        return v === undefined ? DEFAULT_FIX_LOOP[field] : parseDuration(v);
      } catch (err) {
        throw errors.badSetting(option, String(v).slice(0, 40), (err as Error).message);
      }
    });
    return {
      verifyEvery: await seconds('verifyEvery', 'verify-every'), verifyFor: await seconds('verifyFor', 'verify-for'),
      breaker: input.breaker ?? DEFAULT_FIX_LOOP.breaker, breakerReset: await seconds('breakerReset', 'breaker-reset'),
    };
  }

  /** Validates and stores a new monitor; the bridge carries it to Redis. */
  async addMonitor(input: MonitorInput): Promise<Monitor> {
    const id = newId('m');
    return this.saveMonitor(id, await this.checkMonitor(input, { id }));
  }

  /** Validates and stores a monitor in place of monitor `id`, keeping its id and creation time. */
  async updateMonitor(id: string, input: MonitorInput): Promise<Monitor> {
    const existing = await this.store.getMonitor(id);
    if (!existing) throw errors.noSuchMonitor(id);
    return this.saveMonitor(id, await this.checkMonitor(input, { id, existing }), existing);
  }

  /** Stores checked fields as monitor `id`; `existing` keeps its creation time. */
  async saveMonitor(id: string, fields: MonitorFields, existing?: Monitor): Promise<Monitor> {
    const monitor: Monitor = stamped(id, fields, existing);
    await this.store.putMonitor(monitor);
    return monitor;
  }

  /** Validates and stores a new reaction. */
  async addReaction(input: ReactionInput): Promise<Reaction> {
    const id = newId('r');
    return this.saveReaction(id, await this.checkReaction(input, undefined, id));
  }

  /** Validates and stores a reaction in place of reaction `id`, keeping its id and creation time. */
  async updateReaction(id: string, input: ReactionInput): Promise<Reaction> {
    const existing = await this.store.getReaction(id);
    if (!existing) throw errors.noSuchReaction(id);
    return this.saveReaction(id, await this.checkReaction(input, existing, id), existing);
  }

  /** Stores checked fields as reaction `id`; `existing` keeps its creation time. */
  async saveReaction(id: string, fields: ReactionFields, existing?: Reaction): Promise<Reaction> {
    const reaction: Reaction = stamped(id, fields, existing);
    await this.store.putReaction(reaction);
    return reaction;
  }

  async removeMonitor(id: string): Promise<void> {
    if (!(await this.store.deleteMonitor(id))) throw errors.noSuchMonitor(id);
  }

  /** Removes a reaction no monitor uses. */
  async removeReaction(id: string): Promise<void> {
    if (!(await this.store.getReaction(id))) throw errors.noSuchReaction(id);
    const users = (await this.store.listMonitors()).filter((m) => m.reactions.includes(id)).map((m) => m.id);
    if (users.length) throw errors.reactionInUse(id, users);
    await this.store.deleteReaction(id);
  }

  /** Data as module schema `schema` sees it: its secret fields decrypted for `owner` (errors name the field). */
  plainData(data: Record<string, unknown>, schema: FieldSchema, owner: SecretOwner): Record<string, unknown> {
    return decryptFields(this.secretKey, data, schema, owner);
  }

  /**
   * Checks `input` against module `type`'s schema (secret values decrypted to be checked) and returns it as stored
   * for `owner`: secrets encrypted as enc:v2, "(secret)" replaced by `previous`'s value, which is refused when the
   * secret would now be sent somewhere else.
   */
  private async storedData<M extends CheckModule | ReactionModule>(
    loader: PluginLoader<M>, type: string, typeField: string, input: unknown, owner: SecretOwner,
    previous?: { type: string; data: Record<string, unknown> }, prepare?: (mod: M, data: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const what = `${loader.kind} "${type}"`;
    let data = await at('data', () => asObject(input, what));
    const mod = await at(typeField, () => loader.load(type));
    const schema = mod.meta.fields;
    const secrets = secretFields(schema);
    const before = previous?.type === type ? previous.data : undefined;
    data = { ...data };
    for (const f of secrets) {
      if (data[f] !== SECRET_MASK) continue;
      if (before?.[f] === undefined) {
        throw withField(errors.badData(what, [`data.${f} is "${SECRET_MASK}", which only stands for a value already stored: give the value itself`]), `data.${f}`);
      }
      data[f] = before[f];
    }
    let plain: Record<string, unknown>;
    try {
      if (prepare) data = prepare(mod, data);
      const sent: string[] = [];
      for (const f of secrets) {
        if (!isEncrypted(data[f])) continue;
        if (!before || data[f] !== before[f]) {
          // enc:v1 carries no binding: taken from another record or field, it would decrypt and be sealed for its new owner.
          if (isV1(data[f])) throw errors.secretForeign(f, 'an enc:v1 value is only kept in place, in the record and field it is stored in');
          sent.push(f);
          continue;
        }
        const [to, from] = [secretDestination(schema, f, data), secretDestination(schema, f, before)];
        if (to !== from) throw errors.secretMoved(f, to ?? '', from ?? '');
        const weaker = transportChange(schema, f, data, before);
        if (weaker) throw errors.secretTransport(f, weaker.field, weaker.to, weaker.from);
      }
      plain = this.openSent(data, schema, owner, sent);
      const problems = fieldProblems(schema, plain);
      if (!problems.length) problems.push(...templateFieldProblems(schema, plain));
      if (problems.length) throw errors.badData(what, problems);
    } catch (err) {
      throw err instanceof CloudRoutesError ? withField(err, 'data') : err;
    }
    return this.sealed(schema, owner, data, plain, before);
  }

  /**
   * plainData, except that a ciphertext the request brought (`sent`: not the one stored) that does not open is the
   * request's fault (CR_SECRET_FOREIGN), where a stored one that does not open is the server's (CR_SECRET_UNREADABLE).
   */
  private openSent(data: Record<string, unknown>, schema: FieldSchema, owner: SecretOwner, sent: string[]): Record<string, unknown> {
    try {
      return this.plainData(data, schema, owner);
    } catch (err) {
      const f = err instanceof CloudRoutesError && err.code === 'CR_SECRET_UNREADABLE' ? sent.find((s) => err.field === `data.${s}`) : undefined;
      if (f) throw errors.secretForeign(f, 'it was encrypted for another monitor, reaction, field or destination, or with another CLOUDROUTES_SECRET_KEY');
      throw err;
    }
  }

  /** `data` with its secrets as enc:v2 for `owner`; a value the same as `before`'s v2 ciphertext keeps it, so an unchanged record stays equal. */
  private sealed(schema: FieldSchema, owner: SecretOwner, data: Record<string, unknown>, plain: Record<string, unknown>, before?: Record<string, unknown>): Record<string, unknown> {
    const out = { ...data };
    for (const f of secretFields(schema)) {
      const value = data[f];
      if (value === undefined || (isEncrypted(value) && !isV1(value))) continue;
      out[f] = plain[f];
      const kept = before?.[f];
      if (!this.secretKey || !isEncrypted(kept) || isV1(kept)) continue;
      try {
        if (isDeepStrictEqual(decryptValue(this.secretKey, kept, secretAad(owner, f, schema, data), f), plain[f])) out[f] = kept;
      } catch {
        // Bound to another destination or key: encrypted anew below.
      }
    }
    return encryptFields(this.secretKey, out, schema, owner);
  }
}

/** Validated creation and removal of monitors and reactions in the store of record (used by the CLI and the API). */
import { encryptFields } from '../core/crypto.js';
import { errors } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { PluginLoader } from '../core/plugins.js';
import { secretFields } from '../core/schema.js';
import type { CallOn, CheckModule, Monitor, Reaction, ReactionModule } from '../core/types.js';
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
  data: unknown;
}

const CALL_ON: CallOn[] = ['failed', 'healthy', 'both'];
const ZONE = /^[a-z0-9][a-z0-9-]*$/;

function requireName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name.trim()) throw errors.badSetting(`${what} name`, String(name ?? ''), 'give a non-empty --name');
  return name.trim();
}

function asObject(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw errors.badData(what, ['data must be a JSON object']);
  return data as Record<string, unknown>;
}

/** Parses an interval (>= 1 s) into whole seconds or throws CR_BAD_INTERVAL. */
export function parseInterval(input: string | number): number {
  let seconds: number;
  try {
    seconds = parseDuration(input);
  } catch {
    throw errors.badInterval(String(input));
  }
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

  /** Validates and stores a new monitor; the bridge carries it to Redis. */
  async addMonitor(input: MonitorInput): Promise<Monitor> {
    const name = requireName(input.name, 'monitor');
    const interval = parseInterval(input.interval);
    const monitorId = newId('m');
    let data = asObject(input.data, `check "${input.ctype}"`);
    const prepare = (await this.checks.load(input.ctype)).prepareData;
    // A module may complete the data first, e.g. generate the token of a webhook or heartbeat monitor.
    if (prepare) data = prepare(data, { id: monitorId });
    const mod = await this.checks.validateData(input.ctype, data);
    const reactions = [...new Set(input.reactions ?? [])];
    for (const id of reactions) {
      if (!(await this.store.getReaction(id))) throw errors.noSuchReaction(id);
    }
    const zones = [...new Set(input.zones ?? [])];
    for (const z of zones) if (!ZONE.test(z)) throw errors.badSetting('zones', z, 'zone names use lowercase letters, digits and dashes');
    const quorum = input.quorum ?? 1;
    if (!Number.isInteger(quorum) || quorum < 1) throw errors.badSetting('quorum', String(input.quorum), 'a whole number of zones, 1 or more');
    if (zones.length && quorum > zones.length) throw errors.badSetting('quorum', String(quorum), `at most the number of zones listed (${zones.length})`);
    const now = Date.now();
    const monitor: Monitor = {
      id: monitorId, name, ctype: input.ctype, interval, reactions, ...(zones.length ? { zones } : {}), ...(quorum > 1 ? { quorum } : {}),
      data: encryptFields(this.secretKey, data, secretFields(mod.meta.fields)), createdAt: now, updatedAt: now,
    };
    await this.store.putMonitor(monitor);
    return monitor;
  }

  /** Validates and stores a new reaction. */
  async addReaction(input: ReactionInput): Promise<Reaction> {
    const name = requireName(input.name, 'reaction');
    const data = asObject(input.data, `reaction "${input.rtype}"`);
    const mod = await this.actions.validateData(input.rtype, data);
    const trigger = input.trigger ?? 1;
    if (!Number.isInteger(trigger) || trigger < 1) throw errors.badSetting('trigger', String(input.trigger), 'a whole number of consecutive failures, 1 or more');
    let frequency = 0;
    try {
      frequency = parseDuration(input.frequency ?? 0);
    } catch {
      throw errors.badSetting('frequency', String(input.frequency), 'a duration such as 30s or 5m');
    }
    const callOn = (input.callOn ?? 'failed') as CallOn;
    if (!CALL_ON.includes(callOn)) throw errors.badSetting('call-on', String(input.callOn), 'one of failed, healthy, both');
    const now = Date.now();
    const reaction: Reaction = {
      id: newId('r'), name, rtype: input.rtype, trigger, frequency, callOn, once: input.once === true,
      data: encryptFields(this.secretKey, data, secretFields(mod.meta.fields)), createdAt: now, updatedAt: now,
    };
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
}

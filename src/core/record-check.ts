/**
 * The checks every monitor, reaction and target passes, as stored: when it is saved (API, CLI, apply) and again when the
 * bridge reads it from the store, so a record written there by other means is refused with the same words.
 */
import { CloudRoutesError, errors } from './errors.js';
import {
  MAX_DATA_BYTES, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_REACTIONS, MAX_TRIGGER, MAX_ZONES,
  PLAIN_NAME, dataBytes, frequencyProblem, intervalProblem, loopProblem, maxRunsProblem, perProblem, targetProblem, timeoutProblem,
} from './limits.js';
import { CALL_ON_VALUES, REACTION_KIND_VALUES } from './types.js';

const CALL_ON: ReadonlySet<string> = new Set(CALL_ON_VALUES);
const KINDS: ReadonlySet<string> = new Set(REACTION_KIND_VALUES);

/** A stored record's fields as read back, of any type. */
type Loose = Record<string, unknown>;

const at = (err: CloudRoutesError, field: string) => {
  err.field = field;
  return err;
};

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

function commonError(kind: 'monitor' | 'reaction', r: Loose, typeField: 'ctype' | 'rtype'): CloudRoutesError | undefined {
  if (r.id !== undefined && (typeof r.id !== 'string' || !r.id || r.id.length > MAX_ID_LENGTH)) {
    return at(errors.badSetting(`${kind} id`, String(r.id).slice(0, 200), `a text of 1 to ${MAX_ID_LENGTH} characters`), 'id');
  }
  if (typeof r.name !== 'string' || !r.name.trim() || r.name.length > MAX_NAME_LENGTH) {
    return at(errors.badSetting(`${kind} name`, String(r.name ?? '').slice(0, 200), `a non-empty name of at most ${MAX_NAME_LENGTH} characters`), 'name');
  }
  const type = r[typeField];
  if (typeof type !== 'string' || type.length > MAX_ID_LENGTH || !PLAIN_NAME.test(type)) {
    return at(errors.badModuleName(kind === 'monitor' ? 'check' : 'reaction', String(type).slice(0, 200)), typeField);
  }
  const what = `${kind === 'monitor' ? 'check' : 'reaction'} "${type}"`;
  if (!isObject(r.data)) return at(errors.badData(what, ['data must be a JSON object']), 'data');
  const bytes = dataBytes(r.data);
  if (bytes > MAX_DATA_BYTES) return at(errors.badData(what, [`data takes ${bytes} bytes as JSON (secrets encrypted): at most ${MAX_DATA_BYTES}`]), 'data');
  return undefined;
}

/** Why monitor `m` (as stored, with or without its id) cannot be run, or undefined when it can. The error names the field. */
export function monitorRecordError(m: Loose): CloudRoutesError | undefined {
  const common = commonError('monitor', m, 'ctype');
  if (common) return common;
  const interval = intervalProblem(m.interval);
  if (interval) return at(errors.badInterval(String(m.interval)), 'interval');
  const data = m.data as Loose;
  const timeout = data.timeoutMs === undefined ? undefined : timeoutProblem(data.timeoutMs);
  if (timeout) return at(errors.badData(`check "${String(m.ctype)}"`, [`data.timeoutMs ${timeout}`]), 'data.timeoutMs');
  const reactions = m.reactions ?? [];
  if (!Array.isArray(reactions) || reactions.length > MAX_REACTIONS || reactions.some((id) => typeof id !== 'string' || !id || id.length > MAX_ID_LENGTH)) {
    return at(errors.badSetting('reactions', JSON.stringify(reactions).slice(0, 200), `a list of at most ${MAX_REACTIONS} reaction ids`), 'reactions');
  }
  const zones = m.zones ?? [];
  if (!Array.isArray(zones) || zones.length > MAX_ZONES) {
    return at(errors.badSetting('zones', JSON.stringify(zones).slice(0, 200), `a list of at most ${MAX_ZONES} zone names`), 'zones');
  }
  for (const z of zones) {
    if (typeof z !== 'string' || z.length > MAX_ID_LENGTH || !PLAIN_NAME.test(z)) {
      return at(errors.badSetting('zones', String(z).slice(0, 200), `zone names use lowercase letters, digits and dashes, at most ${MAX_ID_LENGTH} characters`), 'zones');
    }
  }
  const q = m.quorum ?? 1;
  if (typeof q !== 'number' || !Number.isInteger(q) || q < 1 || q > MAX_ZONES) {
    return at(errors.badSetting('quorum', String(m.quorum), `a whole number of zones, 1 to ${MAX_ZONES}`), 'quorum');
  }
  if (zones.length && q > zones.length) return at(errors.badSetting('quorum', String(q), `at most the number of zones listed (${zones.length})`), 'quorum');
  return undefined;
}

/** Why reaction `r` (as stored) cannot be run, or undefined when it can. The error names the field. */
export function reactionRecordError(r: Loose): CloudRoutesError | undefined {
  const common = commonError('reaction', r, 'rtype');
  if (common) return common;
  const t = r.trigger;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_TRIGGER) {
    return at(errors.badSetting('trigger', String(t), `a whole number of consecutive failures, 1 to ${MAX_TRIGGER}`), 'trigger');
  }
  const frequency = frequencyProblem(r.frequency);
  if (frequency) return at(errors.badSetting('frequency', String(r.frequency), frequency), 'frequency');
  if (!CALL_ON.has(r.callOn as string)) return at(errors.badSetting('call-on', String(r.callOn), 'one of failed, healthy, both'), 'callOn');
  if (typeof r.once !== 'boolean') return at(errors.badSetting('once', String(r.once), 'true or false'), 'once');
  if (r.kind !== undefined && !KINDS.has(r.kind as string)) return at(errors.badSetting('kind', String(r.kind), 'fix or notify'), 'kind');
  if ((r.maxRuns === undefined) !== (r.per === undefined)) {
    return at(errors.badSetting(r.maxRuns === undefined ? 'per' : 'max-runs', String(r.maxRuns ?? r.per), 'a budget is --max-runs and --per together'), r.maxRuns === undefined ? 'maxRuns' : 'per');
  }
  const runs = r.maxRuns === undefined ? undefined : maxRunsProblem(r.maxRuns);
  if (runs) return at(errors.badSetting('max-runs', String(r.maxRuns), runs), 'maxRuns');
  const per = r.per === undefined ? undefined : perProblem(r.per);
  if (per) return at(errors.badSetting('per', String(r.per), per), 'per');
  const target = r.target === undefined ? undefined : targetProblem(r.target);
  if (target) return at(errors.badSetting('target', String(r.target).slice(0, 200), target), 'target');
  const loop = loopProblem(r);
  if (loop) {
    const field = loop[0].replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    return at(errors.badSetting(loop[0], String(r[field]), loop[1]), field);
  }
  if (r.escalatesFrom !== undefined && (typeof r.escalatesFrom !== 'string' || !r.escalatesFrom || r.escalatesFrom.length > MAX_ID_LENGTH)) {
    return at(errors.badSetting('escalates-from', String(r.escalatesFrom).slice(0, 200), 'a reaction id'), 'escalatesFrom');
  }
  if (r.dryRun !== undefined && typeof r.dryRun !== 'boolean') return at(errors.badSetting('dry-run', String(r.dryRun), 'true or false'), 'dryRun');
  return undefined;
}

/** Why target `t` (as stored) cannot be used as a budget, or undefined when it can. The error names the field. */
export function targetRecordError(t: Loose): CloudRoutesError | undefined {
  const name = targetProblem(t.name);
  if (name) return at(errors.badSetting('target', String(t.name).slice(0, 200), name), 'name');
  const runs = maxRunsProblem(t.maxRuns);
  if (runs) return at(errors.badSetting('max-runs', String(t.maxRuns), runs), 'maxRuns');
  const per = perProblem(t.per);
  if (per) return at(errors.badSetting('per', String(t.per), per), 'per');
  return undefined;
}

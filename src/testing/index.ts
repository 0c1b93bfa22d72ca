/**
 * `cloudroutes/testing`: run a check or reaction module the way CloudRoutes runs it, from a module author's tests.
 * Data is validated as `monitor add` / `reaction add` do, secrets go through encryption and back, and the module
 * runs under the worker's or the sink's own deadline code, with a logger whose lines are returned.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { loadSettings } from '../core/config.js';
import { errors } from '../core/errors.js';
import type { JobMessage } from '../core/messages.js';
import { checkLoader, reactionLoader, type PluginKind, type PluginLoader } from '../core/plugins.js';
import type {
  CallOn, CheckModule, CheckResult, ReactionEvent, ReactionModule, ReactionOutcome, Signal, Status,
} from '../core/types.js';
import { ConfigService, type ReactionInput } from '../manage/config-service.js';
import { shouldRun } from '../sink/rules.js';
import { runReaction as sinkRunReaction } from '../sink/run-reaction.js';
import type { Store } from '../store/store.js';
import { runCheck as workerRunCheck } from '../worker/run-check.js';
import { COMMANDS_ALLOWED } from '../core/command-policy.js';

export type * from '../core/types.js';

/** One log line the module wrote through ctx.logger, as pino writes it (`level` as a name: 'info', 'warn', …). */
export interface LogLine {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

export interface CheckRunOptions {
  /** The job's deadline (default 10000, as `cloudroutes check`). */
  timeoutMs?: number;
  /** Lowest level captured (default 'debug'). */
  logLevel?: string;
  /** What ctx.lastSignal() resolves to (default null: no signal yet). */
  lastSignal?: Signal | null;
  /** Monitor fields of the job (defaults: id 'm-test', name 'test monitor', interval 60). */
  monitor?: { id?: string; name?: string; interval?: number; createdAt?: number };
  zone?: string;
}

export interface CheckRun {
  /** The result as the worker would send it (a throw or a missed deadline becomes `unknown` with the reason). */
  result: CheckResult;
  logs: LogLine[];
  /** True when the check was still running when the worker would have cut it off: it ignored ctx.signal. */
  overran: boolean;
}

export interface ReactionRunOptions {
  /** The reaction's deadline (default 30000, as CLOUDROUTES_REACTION_TIMEOUT_MS). */
  timeoutMs?: number;
  logLevel?: string;
  /** The reaction's own settings, for `wouldRun` (defaults as `reaction add`: trigger 1, callOn 'failed'). */
  reaction?: { id?: string; name?: string; trigger?: number; callOn?: CallOn; once?: boolean };
}

/** Event fields to change from the sample event; `monitor` is merged field by field. */
export type EventOverrides = Partial<Omit<ReactionEvent, 'reaction' | 'monitor'>> & { monitor?: Partial<ReactionEvent['monitor']> };

export interface ReactionRun {
  /** As the sink records it: a throw, a bad return value or a missed deadline is `failed`, with `message` saying why. */
  outcome: ReactionOutcome;
  message: string;
  durationMs: number;
  logs: LogLine[];
  /** The event the module was given (its reaction data with secrets decrypted). */
  event: ReactionEvent;
  /** Whether the sink would run the reaction for this event (its shouldRun, or the trigger and call-on rule). */
  wouldRun: boolean;
}

/** A folder path (`./my-checks/disk-file`) or a module name (built-in or from CLOUDROUTES_CHECKS_PATH / _ACTIONS_PATH). */
function loaderFor<M extends CheckModule | ReactionModule>(kind: PluginKind, module: string): { loader: PluginLoader<M>; name: string } {
  const make = (dirs: string[]) => (kind === 'check' ? checkLoader(dirs) : reactionLoader(dirs)) as unknown as PluginLoader<M>;
  if (!/[/\\]/.test(module) && module !== '.' && module !== '..') {
    const s = loadSettings();
    return { loader: make(kind === 'check' ? s.checksPath : s.actionsPath), name: module };
  }
  const dir = resolve(module);
  const name = basename(dir);
  const loader = make([dirname(dir)]);
  // Without this, a folder lacking its index file would quietly fall back to a built-in of the same name.
  if (!loader.entryFile(dirname(dir), name)) throw errors.moduleNotFound(kind, name, [dir]);
  return { loader, name };
}

function memoryLogger(level: string): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level, base: undefined, formatters: { level: (label) => ({ level: label }) } }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

// Validation as `monitor add` and `reaction add` do it, without a store (no other monitor or reaction exists here).
const noStore = {} as Store;

/** Monitor data as `monitor add` stores it (prepared, validated, secrets encrypted with `key`). */
async function storedCheckData(loader: PluginLoader<CheckModule>, key: Buffer, ctype: string, data: unknown, monitor: { id: string; name: string; interval: number }) {
  const service = new ConfigService(noStore, loader, reactionLoader(), key);
  const fields = await service.checkMonitor({ name: monitor.name, ctype, interval: monitor.interval, data }, { id: monitor.id, reactionExists: () => false });
  const schema = (await loader.load(ctype)).meta.fields;
  return { data: fields.data, plain: () => service.plainData(fields.data, schema, { kind: 'monitor', id: monitor.id }) };
}

/** Reaction fields as `reaction add` stores them (validated, templates checked, secrets encrypted with `key`). */
async function storedReaction(loader: PluginLoader<ReactionModule>, key: Buffer, input: ReactionInput, id: string) {
  const service = new ConfigService(noStore, checkLoader(), loader, key);
  const fields = await service.checkReaction(input, undefined, id);
  const schema = (await loader.load(input.rtype)).meta.fields;
  return { fields, plain: () => service.plainData(fields.data, schema, { kind: 'reaction', id }) };
}

/**
 * Checks `data` for module `module` as `monitor add` (kind 'check') or `reaction add` (kind 'reaction') would,
 * prepareData included; returns the data the module would receive, or throws CR_BAD_DATA naming each field.
 */
export async function validateData(kind: PluginKind, module: string, data: unknown): Promise<Record<string, unknown>> {
  const key = randomBytes(32);
  if (kind === 'check') {
    const { loader, name } = loaderFor<CheckModule>('check', module);
    return (await storedCheckData(loader, key, name, data, { id: 'm-test', name: 'test monitor', interval: 60 })).plain();
  }
  const { loader, name } = loaderFor<ReactionModule>('reaction', module);
  return (await storedReaction(loader, key, { name: 'test reaction', rtype: name, data }, 'r-test')).plain();
}

/** Runs check `module` once with `data`, through the loader, validation and deadline the worker uses. */
export async function runCheck(module: string, data: unknown, opts: CheckRunOptions = {}): Promise<CheckRun> {
  const key = randomBytes(32);
  const { loader, name } = loaderFor<CheckModule>('check', module);
  const monitor = { id: 'm-test', name: 'test monitor', interval: 60, createdAt: Date.now(), ...opts.monitor };
  const stored = await storedCheckData(loader, key, name, data, monitor);
  const mod = await loader.load(name);
  let settled = false;
  const watched = {
    load: async () => ({
      ...mod,
      check: (...args: Parameters<CheckModule['check']>) => (async () => mod.check(...args))().finally(() => (settled = true)),
    }),
  } as unknown as PluginLoader<CheckModule>;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const now = Date.now();
  const job: JobMessage = {
    v: 1, type: 'job', monitorId: monitor.id, name: monitor.name, ctype: name, data: stored.data, timeoutMs,
    zone: opts.zone ?? 'default', due: now, sent: now, interval: monitor.interval, createdAt: monitor.createdAt,
  };
  const { logger, lines } = memoryLogger(opts.logLevel ?? 'debug');
  // The module's author runs it on their own machine: a check that runs commands runs.
  const result = await workerRunCheck(job, watched, key, logger, async () => opts.lastSignal ?? null, COMMANDS_ALLOWED);
  return { result, logs: lines, overran: !settled && result.status === 'unknown' && result.message === `check timed out after ${timeoutMs} ms` };
}

/** The event the sink would give a reaction for a monitor that just failed, with `overrides` applied. */
export function sampleEvent(reaction: ReactionEvent['reaction'], overrides: EventOverrides = {}): ReactionEvent {
  const { monitor, ...rest } = overrides;
  const status: Status = rest.status ?? 'failed';
  return {
    monitor: { id: 'm-test', name: 'test monitor', ctype: 'http-get-statuscode', ...monitor },
    reaction,
    status,
    previousStatus: status === 'failed' ? 'healthy' : 'failed',
    failcount: status === 'failed' ? 1 : 0,
    zone: 'default',
    checkedAt: Date.now(),
    message: status === 'failed' ? 'HTTP 500 from http://127.0.0.1:8080/ (expected 200)' : 'HTTP 200',
    ...rest,
  };
}

/** Runs reaction `module` once with `data` for a sample event, through the validation and timeout the sink uses. */
export async function runReaction(module: string, data: unknown, overrides: EventOverrides = {}, opts: ReactionRunOptions = {}): Promise<ReactionRun> {
  const key = randomBytes(32);
  const { loader, name } = loaderFor<ReactionModule>('reaction', module);
  const r = { id: 'r-test', name: 'test reaction', ...opts.reaction };
  const { fields, plain } = await storedReaction(loader, key, { name: r.name, rtype: name, data, trigger: r.trigger, callOn: r.callOn, once: r.once }, r.id);
  const mod = await loader.load(name);
  const event = sampleEvent({ id: r.id, name: r.name, rtype: name, data: fields.data }, overrides);
  const reaction = { id: r.id, ...fields, createdAt: 0, updatedAt: 0 };
  const { logger, lines } = memoryLogger(opts.logLevel ?? 'debug');
  const log = logger.child({ monitorId: event.monitor.id, reactionId: r.id, rtype: name });
  const run = await sinkRunReaction(mod, event, opts.timeoutMs ?? 30_000, key, log);
  return {
    ...run,
    logs: lines,
    event: { ...event, reaction: { ...event.reaction, data: plain() } },
    wouldRun: shouldRun(mod, { reaction, status: event.status, failcount: event.failcount }),
  };
}

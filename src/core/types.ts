/** Shared shapes of CloudRoutes: configuration records, check results and reaction events. */
import type { Logger } from 'pino';

/** Every status a result may carry: one list for the decoders, the API schemas and the CLI. */
export const STATUS_VALUES = ['healthy', 'failed', 'unknown'] as const;
export type Status = (typeof STATUS_VALUES)[number];
/** Which results a reaction runs on. */
export const CALL_ON_VALUES = ['failed', 'healthy', 'both', 'escalated'] as const;
export type CallOn = (typeof CALL_ON_VALUES)[number];
/** What a reaction does: a fix acts on what failed (budgets hold it back), a notify tells a person. */
export const REACTION_KIND_VALUES = ['fix', 'notify'] as const;
export type ReactionKind = (typeof REACTION_KIND_VALUES)[number];

/** A monitor as stored in the store of record and in Redis (secret fields encrypted). */
export interface Monitor {
  id: string;
  name: string;
  ctype: string;
  /** Seconds between checks, >= 1. */
  interval: number;
  data: Record<string, unknown>;
  reactions: string[];
  /** Zones that check this monitor; absent or empty: every zone. */
  zones?: string[];
  /** Zones that must report it failed within one interval before its status is failed (default 1). */
  quorum?: number;
  createdAt: number;
  updatedAt: number;
}

/** Whether a monitor is checked from `zone`. */
export function runsIn(monitor: Pick<Monitor, 'zones'>, zone: string): boolean {
  return !monitor.zones?.length || monitor.zones.includes(zone);
}

/** A named thing fixes act on (a host, a DNS record): every reaction naming it shares this budget. */
export interface Target {
  name: string;
  /** At most this many runs, of every reaction naming the target together, within any `per` seconds. */
  maxRuns: number;
  per: number;
  createdAt: number;
  updatedAt: number;
}

/** A reaction as stored in the store of record and in Redis (secret fields encrypted). */
export interface Reaction {
  id: string;
  name: string;
  rtype: string;
  /** Consecutive failing results before the reaction runs on a failed result. */
  trigger: number;
  /** Seconds that must pass between two runs for the same monitor. */
  frequency: number;
  callOn: CallOn;
  /** Run at most once per episode (a stretch of the same status). */
  once: boolean;
  /** fix or notify (absent in records saved before kinds: notify). */
  kind?: ReactionKind;
  /** Budget: at most `maxRuns` runs for one monitor within any `per` seconds (absent: no budget). */
  maxRuns?: number;
  per?: number;
  /** What it acts on (a host, a DNS record): every reaction naming it shares the target's budget. */
  target?: string;
  /** Decide for real, call the module with ctx.dryRun, record what it would have done, act on nothing. */
  dryRun?: boolean;
  /**
   * A fix's closed loop: after it runs, its monitor is checked every `verifyEvery` seconds for `verifyFor` seconds
   * (0: no verification); the run ends fixed or not-fixed. After `breaker` consecutive not-fixed runs for one monitor
   * it stops (held, breaker-open) and escalates, until the monitor has been healthy for `breakerReset` seconds.
   */
  verifyEvery?: number;
  verifyFor?: number;
  breaker?: number;
  breakerReset?: number;
  /**
   * A rung of a ladder: it runs when this reaction escalates for the monitor (its breaker opened or its budget was
   * spent), then as a fix of its own for the rest of the episode, and its own escalation runs the rung after it.
   */
  escalatesFrom?: string;
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** What a check returns. `unknown` means the check could not run. */
export interface CheckResult {
  status: Status;
  message?: string;
  latencyMs?: number;
  metrics?: Record<string, number>;
}

/** The job a check receives (data already decrypted). */
export interface CheckJob {
  monitorId: string;
  name: string;
  ctype: string;
  data: Record<string, unknown>;
  timeoutMs: number;
  zone: string;
  /**
   * The monitor's interval in seconds, for checks that judge time since a signal. Required in a job message (a
   * queued job expires after it); absent only when run by hand with `cloudroutes check`.
   */
  interval?: number;
  /** When the monitor was created, epoch ms (absent when run by hand). */
  createdAt?: number;
}

/** What a webhook or heartbeat monitor was last told through the web process. */
export interface Signal {
  /** Epoch ms. */
  at: number;
  status: Status;
  message?: string;
}

export interface CheckContext {
  signal: AbortSignal;
  logger: Logger;
  /** The last signal recorded for this job's monitor, or null when none came yet (given by the worker and `cloudroutes check`). */
  lastSignal?(): Promise<Signal | null>;
}

/** Every outcome of a reaction run, as a module returns it. */
export const OUTCOME_VALUES = ['ran', 'failed', 'skipped'] as const;
export type ReactionOutcome = (typeof OUTCOME_VALUES)[number];
/** What a module's react() may return: an outcome, or an outcome with a message saying what it did or why it failed. */
export type ReactionReturn = ReactionOutcome | { outcome: ReactionOutcome; message?: string };

/**
 * Every decision the sink records for a reaction whose call-on and trigger matched a result (the audit): it ran,
 * failed, or was held (a bound stopped it) or skipped (its own rules said not now), with a reason; and `test`, a run
 * a person asked for (`cloudroutes reaction test`), its message saying what came of it.
 */
export const DECISION_VALUES = ['ran', 'failed', 'skipped', 'held', 'dry-run', 'fixed', 'not-fixed', 'escalated', 'breaker-reset', 'test'] as const;
export type Decision = (typeof DECISION_VALUES)[number];
/** Why a reaction did not run: `skipped` for its own rules (frequency, once), `held` for a bound (budget, target-budget). */
export const DECISION_REASONS = {
  frequency: 'skipped', once: 'skipped', 'other-zone': 'skipped', budget: 'held', 'target-budget': 'held', 'queue-full': 'held',
  verifying: 'held', 'breaker-open': 'held',
} as const satisfies Record<string, Decision>;
export type DecisionReason = keyof typeof DECISION_REASONS;

/** What a reaction receives when it runs (reaction data already decrypted). */
export interface ReactionEvent {
  monitor: { id: string; name: string; ctype: string };
  reaction: { id: string; name: string; rtype: string; data: Record<string, unknown> };
  status: Status;
  previousStatus: Status | null;
  failcount: number;
  zone: string;
  /** Epoch milliseconds of the check. */
  checkedAt: number;
  message: string;
  /** For a reaction run because another escalated (call-on escalated): why, which reaction, after how many runs. */
  escalation?: { reason: string; reaction: { id: string; name: string }; runs: number };
  /** The incident (episode) the result belongs to: when it started (epoch ms) and the monitor's dashboard page. */
  incident?: { startedAt: number; url: string };
}

export interface ReactionContext {
  signal: AbortSignal;
  logger: Logger;
  /**
   * Act on nothing: return { outcome: 'ran', message } where message says exactly what it would have done (the HTTP
   * method, URL and body with secret values masked; the command line and the host). Only given to modules whose
   * meta declares dryRun: true.
   */
  dryRun?: boolean;
}

/** JSON-Schema subset used by plug-ins to describe their data; `secret: true` marks fields encrypted at rest. */
export interface FieldSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array';
  description?: string;
  properties?: Record<string, FieldSchema>;
  required?: string[];
  /** false forbids unknown keys; a schema validates every key not in `properties` (a map such as headers). */
  additionalProperties?: boolean | FieldSchema;
  items?: FieldSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** A string format checked as HTTP allows (see core/http-syntax): an http(s) URL to call, a header name or value. */
  format?: 'http-url' | 'http-header-name' | 'http-header-value';
  /** The schema every key of an object must match, as strings (e.g. header names). */
  propertyNames?: FieldSchema;
  minItems?: number;
  maxItems?: number;
  /** The value matches exactly one of these; `oneOf: [{ required: ['key'] }, { required: ['password'] }]` reads "exactly one of key, password". */
  oneOf?: FieldSchema[];
  /** When the named field is set, these fields must be set too. */
  dependentRequired?: Record<string, string[]>;
  default?: unknown;
  secret?: boolean;
  /** For a secret that is sent somewhere: where, so that its ciphertext is valid for that destination only (see core/secret-binding). */
  boundTo?: SecretBinding;
  /** A message template: `{{monitor.name}}` and the other event fields, checked when a reaction is saved (see core/template). */
  template?: boolean;
}

/**
 * Where a secret field is sent, read from other (non-secret) fields of the same data: `origin` names a field holding a
 * URL (bound to its scheme://host:port), `host` and `port` name the fields of a host and port (the port's schema
 * default when absent). A secret without a binding is bound to its record and field only. `also` names the fields
 * that say how it is sent (TLS, certificate checks): an edit that keeps the secret may not change them, but they are
 * no part of its associated data.
 */
export type SecretBinding = ({ origin: string } | { host: string; port?: string }) & { also?: string[] };

export interface PluginMeta {
  title: string;
  description?: string;
  fields: FieldSchema;
  /** It runs commands (a shell line, a program): only a worker or sink started with --allow-commands runs it. */
  runsCommands?: boolean;
}

export interface CheckModule {
  meta: PluginMeta;
  check(job: CheckJob, ctx: CheckContext): Promise<CheckResult>;
  /** Completes a new monitor's data before it is validated and stored (e.g. generates its secret token). */
  prepareData?(data: Record<string, unknown>, monitor: { id: string }): Record<string, unknown>;
}

export interface ReactionRuleInput {
  reaction: Reaction;
  status: Status;
  failcount: number;
}

export interface ReactionModule {
  meta: PluginMeta & {
    /** fix (acts on what failed: budgets apply by default) or notify; a reaction may say otherwise (default notify). */
    kind?: ReactionKind;
    /** It honours ctx.dryRun (acts on nothing and says what it would have done): reactions using it may be --dry-run. */
    dryRun?: boolean;
  };
  react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn>;
  /** Overrides the sink's trigger / call-on rule; frequency and once still apply. */
  shouldRun?(input: ReactionRuleInput): boolean;
}

/** One row of monitor history: every check result. */
export interface HistoryRecord {
  /** Unique per record: `<zone>:<stream entry id>`, so a batch written twice leaves one copy. */
  id: string;
  monitorId: string;
  zone: string;
  status: Status;
  message: string;
  latencyMs: number | null;
  checkedAt: number;
  /** Schedule due time of the check in epoch ms. */
  due: number;
}

export type EventKind = 'status' | 'reaction';

/** A status change or a reaction run. */
export interface EventRecord {
  id: string;
  kind: EventKind;
  monitorId: string;
  zone: string;
  at: number;
  status: Status;
  previousStatus: Status | null;
  failcount: number;
  reactionId?: string;
  /** A reaction event's decision (the audit): ran, failed, skipped or held. */
  outcome?: Decision;
  /** Why it was skipped or held. */
  reason?: DecisionReason;
  /** The monitor's episode in its zone: the one a decision was taken in, or a status change opens or continues; and (decisions) the due slot of the result that led to it. */
  episode?: number;
  due?: number;
  /** For `fixed`: ms from the fix's run to the healthy result; for `ran`, `failed` and `dry-run`: how long the module took. */
  tookMs?: number;
  message: string;
}

export interface MonitorState {
  status: Status;
  failcount: number;
  lastCheck: number | null;
  latencyMs: number | null;
  lastChange: number | null;
  message: string;
}

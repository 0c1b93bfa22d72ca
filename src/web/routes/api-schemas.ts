/** Schemas of the API's answers and URL parts, shared by the route groups (and shown in /api/v1/openapi.json). */
import { CALL_ON_VALUES, DECISION_VALUES, REACTION_KIND_VALUES, STATUS_VALUES } from '../../core/types.js';
import { ID_PATTERN } from '../../manage/input-schemas.js';

const STATUS = { type: 'string', enum: STATUS_VALUES } as const;
const ms = (description: string) => ({ type: 'integer', description });
const nullableMs = (description: string) => ({ type: 'integer', nullable: true, description });
const strings = { type: 'array', items: { type: 'string' } } as const;
const maskedData = { type: 'object', additionalProperties: true, description: 'secret fields shown as "(secret)" to a read-write key and left out for a read-only key' } as const;

export const errorSchema = {
  type: 'object',
  description: 'what is wrong: a stable code, a message and, for bad input, the field',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** The error answers every route may give (bad input, no or wrong key, read-only key, unknown id, in use, too large). */
export const errorResponses = { '4xx': errorSchema, '5xx': { ...errorSchema, description: 'the store or another part is unavailable (503), or an internal error' } };

export const idParams = (kind: keyof typeof ID_PATTERN) => ({
  type: 'object',
  properties: { id: { type: 'string', maxLength: 100, description: `the ${kind}'s id` } },
  required: ['id'],
});

export const limitQuery = (max: number, dflt: number) => ({ type: 'integer', minimum: 1, maximum: max, default: dflt, description: `at most this many, newest first (default ${dflt})` });

export const monitorSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    ctype: { type: 'string' },
    interval: { type: 'integer', description: 'seconds' },
    data: maskedData,
    reactions: strings,
    zones: strings,
    quorum: { type: 'integer' },
    createdAt: ms('epoch ms'),
    updatedAt: ms('epoch ms'),
  },
  required: ['id', 'name', 'ctype', 'interval', 'data', 'reactions', 'createdAt', 'updatedAt'],
} as const;

export const createdMonitorSchema = {
  ...monitorSchema,
  properties: {
    ...monitorSchema.properties,
    endpoint: {
      type: 'object',
      description: 'heartbeat and webhook monitors only, and only in this answer: the token (also the secret data.token) and where to call',
      properties: { token: { type: 'string' }, url: { type: 'string' }, failUrl: { type: 'string' } },
    },
  },
} as const;

const stateSchema = {
  type: 'object',
  description: "the monitor's live state in this zone's Redis",
  properties: {
    status: STATUS,
    failcount: { type: 'integer' },
    lastCheck: nullableMs('epoch ms of the last check, null before the first'),
    latencyMs: { type: 'number', nullable: true },
    lastChange: nullableMs('epoch ms of the last status change'),
    message: { type: 'string' },
  },
} as const;

export const monitorWithStateSchema = {
  ...monitorSchema,
  properties: {
    ...monitorSchema.properties,
    state: stateSchema,
    zoneViews: {
      type: 'object',
      description: "each zone's own latest result (quorum)",
      additionalProperties: { type: 'object', properties: { status: STATUS, failcount: { type: 'integer' }, lastCheck: nullableMs('epoch ms') } },
    },
  },
} as const;

export const reactionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    rtype: { type: 'string' },
    trigger: { type: 'integer' },
    frequency: { type: 'number', description: 'seconds' },
    callOn: { type: 'string', enum: CALL_ON_VALUES },
    once: { type: 'boolean' },
    kind: { type: 'string', enum: REACTION_KIND_VALUES, description: 'absent in reactions saved before kinds: notify' },
    maxRuns: { type: 'integer', description: 'budget: most runs for one monitor within per' },
    per: { type: 'number', description: 'budget window, seconds' },
    target: { type: 'string' },
    dryRun: { type: 'boolean' },
    verifyEvery: { type: 'number', description: 'seconds' },
    verifyFor: { type: 'number', description: 'seconds; 0: no verification' },
    breaker: { type: 'integer' },
    breakerReset: { type: 'number', description: 'seconds' },
    escalatesFrom: { type: 'string', description: 'the reaction this one is the next rung after' },
    data: maskedData,
    createdAt: ms('epoch ms'),
    updatedAt: ms('epoch ms'),
  },
  required: ['id', 'name', 'rtype', 'trigger', 'frequency', 'callOn', 'once', 'data', 'createdAt', 'updatedAt'],
} as const;

export const targetParams = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 200, description: "the target's name (URL-encoded: db%2Fprimary)" } },
  required: ['name'],
} as const;

const targetProperties = {
  name: { type: 'string' },
  maxRuns: { type: 'integer', description: 'most runs of every reaction naming it together within per' },
  per: { type: 'number', description: 'the window, seconds' },
  createdAt: ms('epoch ms'),
  updatedAt: ms('epoch ms'),
} as const;

export const targetSchema = { type: 'object', properties: targetProperties, required: ['name', 'maxRuns', 'per', 'createdAt', 'updatedAt'] } as const;

const namedBy = {
  type: 'array', description: 'the reactions naming it (reaction --target)',
  items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
} as const;

export const targetViewSchema = {
  type: 'object',
  description: 'a target set with a budget or named by a reaction',
  properties: { ...targetProperties, default: { type: 'boolean', description: 'no budget set: the default (1 per 1h) applies; no createdAt, updatedAt' }, reactions: namedBy },
  required: ['name', 'maxRuns', 'per', 'default', 'reactions'],
} as const;

export const targetDetailSchema = {
  ...targetViewSchema,
  properties: {
    ...targetViewSchema.properties,
    zone: { type: 'string', description: 'the zone whose Redis counted the runs' },
    runs: {
      type: 'array', description: 'the runs inside the window, newest first',
      items: { type: 'object', properties: { monitorId: { type: 'string' }, reactionId: { type: 'string' }, at: ms('epoch ms') } },
    },
  },
} as const;

export const targetRemovedSchema = {
  type: 'object',
  properties: {
    removed: { type: 'string' },
    reactions: namedBy,
    message: { type: 'string', description: 'what the reactions still naming it now have' },
  },
} as const;

export const historySchema = {
  type: 'object',
  description: 'one check result',
  properties: {
    id: { type: 'string' },
    monitorId: { type: 'string' },
    zone: { type: 'string' },
    status: STATUS,
    message: { type: 'string' },
    latencyMs: { type: 'number', nullable: true },
    checkedAt: ms('epoch ms'),
    due: ms('epoch ms the check was due'),
  },
} as const;

export const eventSchema = {
  type: 'object',
  description: 'a status change or a reaction run',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['status', 'reaction'] },
    monitorId: { type: 'string' },
    zone: { type: 'string' },
    at: ms('epoch ms'),
    status: STATUS,
    previousStatus: { type: 'string', nullable: true },
    failcount: { type: 'integer' },
    reactionId: { type: 'string' },
    outcome: { type: 'string', enum: DECISION_VALUES, description: "a reaction event's decision" },
    reason: { type: 'string', description: 'why it was skipped or held (frequency, once, other-zone, budget, target-budget, queue-full)' },
    episode: { type: 'integer', description: "the monitor's episode in its zone: the one the decision was taken in, or the status change opens or continues" },
    due: ms("due slot of the result that led to the decision"),
    tookMs: { type: 'integer', description: 'fixed: ms from the run to the healthy result; ran, failed, dry-run: how long the module took' },
    message: { type: 'string' },
  },
} as const;

export const statusRowSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    ctype: { type: 'string' },
    status: STATUS,
    failcount: { type: 'integer' },
    lastCheck: { type: 'string', nullable: true, description: 'ISO 8601' },
    latencyMs: { type: 'number', nullable: true },
  },
} as const;

const itemRefs = { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' } } } } as const;

export const applyReportSchema = {
  type: 'object',
  description: 'what apply did (or, with dryRun, would do)',
  properties: { dryRun: { type: 'boolean' }, created: itemRefs, updated: itemRefs, unchanged: itemRefs, removed: itemRefs },
} as const;

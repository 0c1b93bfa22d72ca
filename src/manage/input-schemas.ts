/**
 * JSON Schemas of a monitor and a reaction as clients send them (the API's request bodies, the items of a
 * configuration document). They check shape and types only; ConfigService checks the meaning.
 * Written in the subset OpenAPI 3.0 shares with JSON Schema, so the API's OpenAPI document can show them.
 */
import { MAX_BUDGET_RUNS, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_REACTIONS, MAX_ZONES } from '../core/limits.js';
import { CALL_ON_VALUES, REACTION_KIND_VALUES } from '../core/types.js';

const duration = (description: string) => ({
  anyOf: [{ type: 'string', maxLength: 32 }, { type: 'number' }],
  description,
});

const ids = (description: string, maxItems: number) => ({ type: 'array', items: { type: 'string', maxLength: MAX_ID_LENGTH }, maxItems, description });

const data = (what: string) => ({
  type: 'object',
  additionalProperties: true,
  description: `the ${what}'s data, as its module's schema describes (GET /api/v1/modules); secret fields may be sent as "(secret)" to keep the stored value`,
});

export const monitorInputSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'a name for people' },
    ctype: { type: 'string', maxLength: MAX_ID_LENGTH, description: 'check module, e.g. http-get-statuscode' },
    interval: duration('time between checks: 10s, 1m, 5m or a number of seconds (1s to 7d)'),
    data: data('check'),
    reactions: ids('reaction ids to run on this monitor', MAX_REACTIONS),
    zones: ids('zones that check it (default: every zone)', MAX_ZONES),
    quorum: { type: 'integer', minimum: 1, description: 'zones that must see it failed within one interval before it is failed' },
  },
  required: ['name', 'ctype', 'interval', 'data'],
  additionalProperties: false,
} as const;

export const reactionInputSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'a name for people' },
    rtype: { type: 'string', maxLength: MAX_ID_LENGTH, description: 'reaction module, e.g. webhook' },
    trigger: { type: 'integer', minimum: 1, description: 'consecutive failed results before it runs on failure (default 1)' },
    frequency: duration('least time between two runs for the same monitor, e.g. 5m (default 0, at most 30d)'),
    callOn: { type: 'string', enum: CALL_ON_VALUES, description: 'which results it runs on (default failed)' },
    once: { type: 'boolean', description: 'run at most once per episode (default false)' },
    kind: { type: 'string', enum: REACTION_KIND_VALUES, description: "fix (acts on what failed) or notify (tells a person); default: the module's kind" },
    maxRuns: { type: 'integer', description: 'budget: most runs for one monitor within `per` (a fix without a budget: 3 per 1h)' },
    per: duration('budget window, e.g. 1h (1s to 30d)'),
    target: { type: 'string', maxLength: 200, description: 'what it acts on (a host, a DNS record): reactions naming one target share its budget' },
    dryRun: { type: 'boolean', description: 'decide for real, act on nothing, record what it would have done (default false)' },
    verifyEvery: duration("a fix's verification: check the monitor this often after it runs (default 5s, at least 1s)"),
    verifyFor: duration("a fix's verification window (default 2m; 0 turns verification off)"),
    breaker: { type: 'integer', description: 'consecutive not-fixed runs for one monitor before the fix stops and escalates (default 2)' },
    breakerReset: duration('how long the monitor must be healthy before an open breaker closes (default 30m)'),
    escalatesFrom: { type: 'string', maxLength: MAX_ID_LENGTH, description: 'the reaction this one is the next rung after: it runs when that one escalates for the monitor (breaker open or budget spent)' },
    data: data('reaction'),
  },
  required: ['name', 'rtype', 'data'],
  additionalProperties: false,
} as const;

/** PUT /api/v1/targets/:name: a target's budget. */
export const targetInputSchema = {
  type: 'object',
  properties: {
    maxRuns: { type: 'integer', description: `most runs of every reaction naming the target together within \`per\` (1 to ${MAX_BUDGET_RUNS})` },
    per: duration('the window, e.g. 10m or 1h, or seconds (1s to 30d)'),
  },
  required: ['maxRuns', 'per'],
  additionalProperties: false,
} as const;

/**
 * Ids of monitors (`m-…`) and reactions (`r-…`): generated ones, or chosen in a configuration document. No dashes
 * after the prefix: a told monitor's token is "<monitor id>.<secret>", read back by the same rule.
 */
export const ID_PATTERN = { monitor: '^m-[a-z0-9]{1,40}$', reaction: '^r-[a-z0-9]{1,40}$' } as const;

const withId = <S extends { properties: object }>(schema: S, kind: keyof typeof ID_PATTERN) => ({
  ...schema,
  properties: {
    id: { type: 'string', pattern: ID_PATTERN[kind], description: `the ${kind}'s id; absent: the ${kind} of that name, or a new one` },
    ...schema.properties,
  },
});

/** The whole configuration as `cloudroutes export` writes it and `cloudroutes apply` reads it. */
export const configDocumentSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer', enum: [1] },
    note: { type: 'string', description: 'ignored; export says here how secrets are written' },
    reactions: { type: 'array', items: withId(reactionInputSchema, 'reaction'), maxItems: 100_000 },
    monitors: { type: 'array', items: withId(monitorInputSchema, 'monitor'), maxItems: 100_000 },
  },
  additionalProperties: false,
} as const;

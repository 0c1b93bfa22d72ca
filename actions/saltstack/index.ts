/** Reaction: runs a Salt execution function or applies a state on minions through salt-api (rest_cherrypy POST /run). */
import { Agent } from 'undici';
import { exactlyOneOf } from '../../src/core/schema.js';
import type { PluginMeta, ReactionContext, ReactionEvent, ReactionOutcome } from '../../src/core/types.js';
import { joinUrl, sendRequest } from '../_shared/http.js';

const TGT_TYPES = ['glob', 'pcre', 'list', 'grain', 'grain_pcre', 'pillar', 'pillar_pcre', 'nodegroup', 'range', 'compound', 'ipcidr'];
/** Functions whose return is a map of state results, judged state by state. */
const STATE_FUNS = /^state\.(apply|sls|highstate|single|top)$/;

export const meta: PluginMeta = {
  title: 'SaltStack (salt-api)',
  description:
    'Runs a Salt execution function (fun, e.g. service.restart with arg ["nginx"]) or applies a state (state, i.e. ' +
    'state.apply with that name) on the minions that tgt matches, in one POST <url>/run to salt-api (rest_cherrypy) with ' +
    'the credentials in the lowstate, which costs one round trip and keeps no session token. It counts as done when every ' +
    'minion returned a result that is not a failure; it fails when no minion matched, when a listed minion did not ' +
    'return, when a function returned false, was not available or raised, when a state returned result false (the state ' +
    'id and its comment are logged) or did not render, on a 401 (bad credentials or eauth), another HTTP error, a network ' +
    'error or the deadline. Exactly one of fun and state is given. The password is stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Base address of salt-api, e.g. https://salt.example.com:8000.', pattern: '^https?://[^\\s/]+' },
      username: { type: 'string', description: 'External-auth user that may run the function (external_auth in the master config).', minLength: 1 },
      password: { type: 'string', description: 'Password of username; stored encrypted.', minLength: 1, secret: true },
      eauth: { type: 'string', description: 'External-auth backend, default pam (also ldap, auto, file, sharedsecret, ...).', pattern: '^[a-z_]+$', default: 'pam' },
      tgt: { type: 'string', description: 'Target: a minion id glob (web*), a comma-separated list, a grain (os:Debian), a compound expression, ... as tgtType says.', minLength: 1 },
      tgtType: { type: 'string', description: 'How tgt is read, default glob.', enum: TGT_TYPES, default: 'glob' },
      fun: { type: 'string', description: 'Execution function to run, e.g. service.restart, cmd.run (not with state).', pattern: '^\\w+(\\.\\w+)+$' },
      state: { type: 'string', description: 'State (SLS) to apply with state.apply, e.g. nginx or nginx,php (not with fun).', pattern: '^[\\w.,-]+$' },
      arg: { type: 'array', description: 'Positional arguments of fun, e.g. ["nginx"] (not with state).' },
      kwarg: { type: 'object', description: 'Keyword arguments, e.g. {"test": true} or {"pillar": {...}} for a state.' },
      tlsVerify: { type: 'boolean', description: 'Verify the certificate of an https url, default true (false for a self-signed salt-api).', default: true },
      timeoutMs: {
        type: 'integer',
        description: 'Time limit of the call (within the sink\'s deadline); salt waits for minions a second less. Default: the deadline, and salt\'s own wait.',
        minimum: 2000,
        maximum: 600000,
      },
    },
    required: ['url', 'username', 'password', 'tgt'],
    oneOf: exactlyOneOf('fun', 'state'),
    dependentRequired: { arg: ['fun'] },
    additionalProperties: false,
  },
};

let insecure: Agent | undefined;

/** What to ask salt to run, or a reason the data does not say it. */
function call(data: Record<string, unknown>): { fun: string; arg?: unknown[] } | string {
  const hasFun = typeof data.fun === 'string';
  const hasState = typeof data.state === 'string';
  if (hasFun === hasState) return hasFun ? 'fun and state are both set; give one' : 'neither fun nor state is set; give one';
  if (hasState && data.arg !== undefined) return 'arg goes with fun; for a state give options in kwarg (e.g. {"test": true})';
  if (hasState) return { fun: 'state.apply', arg: [data.state] };
  return { fun: String(data.fun), arg: Array.isArray(data.arg) ? data.arg : undefined };
}

/** The first state that returned result false, as "id: comment", or a reason the return is not a state run. */
function stateFailure(ret: unknown): string | undefined {
  if (Array.isArray(ret)) return `the state did not run: ${ret.map(String).join('; ')}`;
  if (typeof ret !== 'object' || ret === null) return `the state did not run: ${JSON.stringify(ret)}`;
  for (const [key, r] of Object.entries(ret as Record<string, { result?: unknown; comment?: unknown; __id__?: unknown }>)) {
    if (r?.result === false) {
      // Keys read <module>_|-<id>_|-<name>_|-<function>; __id__ is the id as written in the SLS.
      const id = typeof r.__id__ === 'string' ? r.__id__ : (key.split('_|-')[1] ?? key);
      return `state ${id} failed: ${Array.isArray(r.comment) ? r.comment.join(' ') : String(r.comment ?? '')}`;
    }
  }
  return undefined;
}

/** Why a function's return on one minion is a failure, or undefined. */
function funFailure(fun: string, ret: unknown): string | undefined {
  if (ret === false) return `${fun} returned false`;
  if (typeof ret === 'string' && /^'[^']*' is not available\.$|^ERROR\b|^The minion function caused an exception|^Minion did not return/.test(ret)) return ret;
  return STATE_FUNS.test(fun) ? stateFailure(ret) : undefined;
}

/** Judges salt-api's answer {"return": [{minion: result, ...}]}; the problem, or undefined with the minions that returned in `ran`. */
function judge(text: string, data: Record<string, unknown>, fun: string, ran: string[]): string | undefined {
  let results: unknown;
  try {
    results = (JSON.parse(text) as { return?: unknown[] }).return?.[0];
  } catch {
    return 'the answer is not JSON';
  }
  if (typeof results !== 'object' || results === null || Array.isArray(results)) return `unexpected answer, no {"return": [{minion: result}]}`;
  const tgtType = typeof data.tgtType === 'string' ? data.tgtType : 'glob';
  const minions = Object.keys(results);
  if (minions.length === 0) return `no minion matched tgt "${String(data.tgt)}" (${tgtType})`;
  const problems = minions.map((m) => [m, funFailure(fun, (results as Record<string, unknown>)[m])]).filter(([, p]) => p).map(([m, p]) => `${m}: ${p}`);
  if (tgtType === 'list') {
    const missing = String(data.tgt).split(',').map((m) => m.trim()).filter((m) => m && !minions.includes(m));
    if (missing.length) problems.push(`${missing.join(', ')} did not return`);
  }
  if (problems.length) return problems.join('; ');
  ran.push(...minions);
  return undefined;
}

/** Sends the lowstate to <url>/run; 'ran' when every minion's return is a success. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionOutcome> {
  const data = event.reaction.data;
  const label = `${event.reaction.rtype} reaction "${event.reaction.name}"`;
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id, tgt: data.tgt };
  const what = call(data);
  if (typeof what === 'string') {
    ctx.logger.warn(where, `${label}: ${what}`);
    return 'failed';
  }
  const timeoutMs = typeof data.timeoutMs === 'number' ? data.timeoutMs : undefined;
  const chunk = {
    client: 'local',
    tgt: data.tgt,
    tgt_type: typeof data.tgtType === 'string' ? data.tgtType : 'glob',
    fun: what.fun,
    ...(what.arg ? { arg: what.arg } : {}),
    ...(data.kwarg !== undefined ? { kwarg: data.kwarg } : {}),
    ...(timeoutMs ? { timeout: Math.floor(timeoutMs / 1000) - 1 } : {}),
    username: data.username,
    password: data.password,
    eauth: typeof data.eauth === 'string' ? data.eauth : 'pam',
  };
  if (data.tlsVerify === false) insecure ??= new Agent({ connect: { rejectUnauthorized: false } });
  const signal = timeoutMs ? AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]) : ctx.signal;
  const ran: string[] = [];
  const outcome = await sendRequest(event, { ...ctx, signal }, {
    url: joinUrl(String(data.url), '/run'),
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify([chunk]),
    checkBody: (text) => judge(text, data, what.fun, ran),
    dispatcher: data.tlsVerify === false ? insecure : undefined,
  });
  if (outcome === 'ran') ctx.logger.info({ ...where, minions: ran }, `${label}: ${what.fun} succeeded on ${ran.length} minion${ran.length > 1 ? 's' : ''} (${ran.join(', ')})`);
  return outcome;
}

/** Reaction: runs a Salt execution function or applies a state on minions through salt-api (rest_cherrypy POST /run). */
import { Agent } from 'undici';
import { exactlyOneOf } from '../../src/core/schema.js';
import type { ReactionContext, ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { joinUrl, sendRequest, type RequestReturn } from '../_shared/http.js';
import { withMessage } from '../_shared/outcome.js';

const TGT_TYPES = ['glob', 'pcre', 'list', 'grain', 'grain_pcre', 'pillar', 'pillar_pcre', 'nodegroup', 'range', 'compound', 'ipcidr'];
/** Functions whose return is a map of state results, judged state by state. */
const STATE_FUNS = /^state\.(apply|sls|highstate|single|top)$/;

export const meta: ReactionModule['meta'] = {
  title: 'SaltStack (salt-api)',
  kind: 'fix',
  dryRun: true,
  description:
    'Runs a Salt execution function (fun, e.g. service.restart with arg ["nginx"], or cmd.run) or applies a state (state, ' +
    'i.e. state.apply with that name) on the minions that tgt matches, in one POST <url>/run to salt-api (rest_cherrypy) ' +
    'with the credentials and full_return in the lowstate, so each minion answers with its return and its retcode (salt ' +
    '2017.7 or later); one round trip, no session token. It counts as done when every minion answered with retcode 0 and ' +
    'a result that is not a failure. It fails when no minion matched, when a minion did not return, when a minion\'s ' +
    'retcode is not 0 (a command that exited non-zero: the minion, the retcode and the end of the output are logged; 254 ' +
    'an unknown function), when a function returned false or raised, when a state returned result false (retcode 2; the ' +
    'state id and its comment are logged) or did not render, on a 401 (bad credentials or eauth), another HTTP error, a ' +
    'network error or the deadline; the reason is logged and returned as the message. Exactly one of fun and state is ' +
    'given. The password is stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Base address of salt-api, e.g. https://salt.example.com:8000.', format: 'http-url' },
      username: { type: 'string', description: 'External-auth user that may run the function (external_auth in the master config).', minLength: 1 },
      password: { type: 'string', description: 'Password of username; stored encrypted.', minLength: 1, secret: true, boundTo: { origin: 'url', also: ['tlsVerify'] } },
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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The last `max` characters of what a function printed (cmd.run's text, cmd.run_all's stdout then stderr), on one line. */
function outputTail(ret: unknown, max = 300): string {
  const text = typeof ret === 'string' ? ret : isRecord(ret) ? [ret.stdout, ret.stderr].filter((s) => typeof s === 'string').join('\n') : JSON.stringify(ret);
  const line = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).join(' | ');
  return line.length > max ? `…${line.slice(-max)}` : line;
}

/**
 * Why one minion's entry in a full_return answer ({ret, retcode, jid, out?}) is a failure, or undefined.
 * The retcode is the minion's exit status of the job: a command's exit code for cmd.*, 2 for a state with result
 * false, 1 for a state that did not compile, 254 for an unknown function.
 */
function minionFailure(fun: string, entry: unknown): string | undefined {
  // LocalClient.cmd puts a bare false for a targeted minion that never answered.
  if (entry === false) return 'did not return';
  if (!isRecord(entry) || !('ret' in entry)) return `no {"ret", "retcode"} in its answer (salt before 2017.7 ignores full_return): ${JSON.stringify(entry).slice(0, 200)}`;
  const { ret, retcode, out } = entry;
  if (out === 'no_return' || (typeof ret === 'string' && ret.startsWith('Minion did not return'))) return `did not return (${String(ret)})`;
  // cmd.run_all and cmd.script return the exit code in ret, which older minions do not copy to the job's retcode.
  const code = typeof retcode === 'number' && retcode !== 0 ? retcode : isRecord(ret) && typeof ret.retcode === 'number' && ret.retcode !== 0 && typeof ret.pid === 'number' ? ret.retcode : 0;
  const withCode = code ? ` (retcode ${code})` : '';
  if (STATE_FUNS.test(fun)) {
    const problem = stateFailure(ret);
    if (problem) return problem + withCode;
  }
  if (ret === false) return `${fun} returned false${withCode}`;
  if (typeof ret === 'string' && /^'[^']*' is not available\.$|^ERROR\b|^The minion function caused an exception/.test(ret)) return ret.slice(0, 300) + withCode;
  if (code) {
    const tail = STATE_FUNS.test(fun) ? '' : outputTail(ret);
    return `${fun} failed with retcode ${code}${tail ? `: ${tail}` : ''}`;
  }
  return undefined;
}

/** Judges salt-api's answer {"return": [{minion: {ret, retcode, ...}}]}; the problem, or undefined with the minions that returned in `ran`. */
function judge(text: string, data: Record<string, unknown>, fun: string, ran: string[]): string | undefined {
  let results: unknown;
  try {
    results = (JSON.parse(text) as { return?: unknown[] }).return?.[0];
  } catch {
    return 'the answer is not JSON';
  }
  if (!isRecord(results)) return `unexpected answer, no {"return": [{minion: result}]}`;
  const tgtType = typeof data.tgtType === 'string' ? data.tgtType : 'glob';
  const minions = Object.keys(results);
  if (minions.length === 0) return `no minion matched tgt "${String(data.tgt)}" (${tgtType})`;
  const problems = minions.map((m) => [m, minionFailure(fun, results[m])]).filter(([, p]) => p).map(([m, p]) => `${m}: ${p}`);
  if (tgtType === 'list') {
    const missing = String(data.tgt).split(',').map((m) => m.trim()).filter((m) => m && !minions.includes(m));
    if (missing.length) problems.push(`${missing.join(', ')} did not return`);
  }
  if (problems.length) return problems.join('; ');
  ran.push(...minions);
  return undefined;
}

/** Sends the lowstate to <url>/run; 'ran' when every minion's return is a success. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<RequestReturn> {
  const data = event.reaction.data;
  const label = `${event.reaction.rtype} reaction "${event.reaction.name}"`;
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id, tgt: data.tgt };
  const what = call(data);
  if (typeof what === 'string') {
    ctx.logger.warn(where, `${label}: ${what}`);
    return withMessage('failed', what, event, meta.fields);
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
    // Each minion's answer then carries its retcode: a command that exits non-zero returns text, not false.
    full_return: true,
    username: data.username,
    password: data.password,
    eauth: typeof data.eauth === 'string' ? data.eauth : 'pam',
  };
  if (data.tlsVerify === false) insecure ??= new Agent({ connect: { rejectUnauthorized: false } });
  // The timer owns the controller: an AbortSignal.timeout that only AbortSignal.any refers to can be garbage-collected and never fire.
  const limit = new AbortController();
  const timer = timeoutMs ? setTimeout(() => limit.abort(new DOMException('timeoutMs passed', 'TimeoutError')), timeoutMs) : undefined;
  const signal = timeoutMs ? AbortSignal.any([ctx.signal, limit.signal]) : ctx.signal;
  const ran: string[] = [];
  const outcome = await sendRequest(event, { ...ctx, signal }, {
    url: joinUrl(String(data.url), '/run'),
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify([chunk]),
    checkBody: (text) => judge(text, data, what.fun, ran),
    dispatcher: data.tlsVerify === false ? insecure : undefined,
    fields: meta.fields,
    dryRunUnknown: `which minions tgt matches and what ${what.fun} returns on them`,
  });
  clearTimeout(timer);
  if (outcome === 'ran') ctx.logger.info({ ...where, minions: ran }, `${label}: ${what.fun} succeeded on ${ran.length} minion${ran.length > 1 ? 's' : ''} (${ran.join(', ')})`);
  return outcome;
}

/**
 * The one catalogue of CloudRoutes errors: a stable code, a message naming what is wrong and what to do, the input
 * field at fault when there is one, and the HTTP status the web answers with.
 */
import { PLAIN_NAME, intervalProblem } from './limits.js';

export type ErrorCode =
  | 'CR_COMMANDS_NOT_ALLOWED'
  | 'CR_SSH'
  | 'CR_TIMED_OUT'
  | 'CR_BAD_ENTRY'
  | 'CR_BAD_REQUEST'
  | 'CR_UNAUTHORIZED'
  | 'CR_THROTTLED'
  | 'CR_READ_ONLY'
  | 'CR_NOT_FOUND'
  | 'CR_WRONG_ENDPOINT'
  | 'CR_BUSY'
  | 'CR_INTERNAL'
  | 'CR_REDIS_UNREACHABLE'
  | 'CR_NO_ANSWER'
  | 'CR_NO_SIGNALS'
  | 'CR_TYPESCRIPT_MISSING'
  | 'CR_MODULE_SYNTAX'
  | 'CR_REMOTE_COMMAND'
  | 'CR_BAD_MODULE_NAME'
  | 'CR_MODULE_NOT_FOUND'
  | 'CR_MODULE_INVALID'
  | 'CR_BAD_DATA'
  | 'CR_BAD_JSON'
  | 'CR_BAD_INTERVAL'
  | 'CR_BAD_SETTING'
  | 'CR_NO_SUCH_MONITOR'
  | 'CR_NO_SUCH_REACTION'
  | 'CR_REACTION_IN_USE'
  | 'CR_NO_SUCH_TARGET'
  | 'CR_BAD_DOCUMENT'
  | 'CR_SECRET_KEY'
  | 'CR_STORE'
  | 'CR_STORE_REFUSED'
  | 'CR_CONFIRM'
  | 'CR_REDIS_MISSING'
  | 'CR_BAD_MESSAGE'
  | 'CR_MAIN_LOOP_ENDED'
  | 'CR_UNCAUGHT_EXCEPTION'
  | 'CR_BAD_CURVE_KEY'
  | 'CR_CURVE_INCOMPLETE'
  | 'CR_PLAINTEXT_REFUSED'
  | 'CR_KEY_FILE_EXISTS'
  | 'CR_CROSS_ORIGIN'
  | 'CR_SECRET_UNREADABLE'
  | 'CR_SECRET_FOREIGN'
  | 'CR_SECRET_MOVED'
  | 'CR_REWRAP_REFUSED'
  | 'CR_CURVE_REFUSED'
  | 'CR_FAILPOINT'
  | 'CR_ZAP_DOMAIN_TAKEN'
  | 'CR_FILE_LOCKED'
  | 'CR_PROCESSES_MISSING';

export class CloudRoutesError extends Error {
  readonly code: ErrorCode;
  /** Usage errors make the CLI exit with status 2. */
  readonly usage: boolean;
  /** The input field at fault (`interval`, `data.port`, `monitors[2].ctype`), when known. */
  field?: string;
  constructor(code: ErrorCode, message: string, usage = true, field?: string) {
    super(message);
    this.name = 'CloudRoutesError';
    this.code = code;
    this.usage = usage;
    if (field) this.field = field;
  }
}

/** One problem of an input: the path of the field at fault (`data.port`) and the sentence that says it. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** How a machine could not be reached or logged in to over SSH. */
export type SshFailure = 'config' | 'refused' | 'auth' | 'key' | 'host-key' | 'timeout' | 'lost' | 'network';

/** CR_SSH: the machine could not be reached or logged in to; `kind` says why (a changed host key fails a check). */
export class SshError extends CloudRoutesError {
  constructor(readonly kind: SshFailure, message: string) {
    super('CR_SSH', message, false);
    this.name = 'SshError';
  }
}

/** CR_TIMED_OUT: a check's deadline came before the work it raced. */
export class TimedOut extends CloudRoutesError {
  constructor(readonly elapsedMs: number) {
    super('CR_TIMED_OUT', `timed out after ${elapsedMs} ms`, false);
    this.name = 'TimedOut';
  }
}

/** CR_BAD_ENTRY: a Redis stream entry that cannot become a store record; `field` is the entry's field at fault. */
export class BadEntry extends CloudRoutesError {
  constructor(field: string, problem: string) {
    super('CR_BAD_ENTRY', `field "${field}" ${problem}`, false, field);
    this.name = 'BadEntry';
  }
}

/** The HTTP status of every code (a Record, so a new code does not type-check without one). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  CR_BAD_REQUEST: 400,
  CR_BAD_JSON: 400,
  CR_BAD_DATA: 400,
  CR_BAD_INTERVAL: 400,
  CR_BAD_SETTING: 400,
  CR_BAD_MODULE_NAME: 400,
  CR_MODULE_NOT_FOUND: 400,
  CR_BAD_DOCUMENT: 400,
  CR_SECRET_MOVED: 400,
  CR_SECRET_FOREIGN: 400,
  CR_BAD_MESSAGE: 400,
  CR_BAD_CURVE_KEY: 400,
  CR_CURVE_REFUSED: 502,
  CR_CURVE_INCOMPLETE: 400,
  CR_PLAINTEXT_REFUSED: 400,
  CR_REWRAP_REFUSED: 400,
  CR_UNAUTHORIZED: 401,
  CR_READ_ONLY: 403,
  CR_CROSS_ORIGIN: 403,
  CR_COMMANDS_NOT_ALLOWED: 403,
  CR_NOT_FOUND: 404,
  CR_NO_SUCH_MONITOR: 404,
  CR_NO_SUCH_REACTION: 404,
  CR_REACTION_IN_USE: 409,
  CR_NO_SUCH_TARGET: 404,
  CR_WRONG_ENDPOINT: 409,
  CR_KEY_FILE_EXISTS: 409,
  CR_THROTTLED: 429,
  CR_INTERNAL: 500,
  CR_SECRET_KEY: 500,
  // The server cannot read a secret it holds: the key it runs with is not the one it was written with, not the request.
  CR_SECRET_UNREADABLE: 500,
  CR_MODULE_INVALID: 500,
  CR_MODULE_SYNTAX: 500,
  CR_TYPESCRIPT_MISSING: 500,
  CR_BAD_ENTRY: 500,
  CR_REDIS_MISSING: 500,
  CR_MAIN_LOOP_ENDED: 500,
  CR_UNCAUGHT_EXCEPTION: 500,
  CR_FAILPOINT: 500,
  CR_ZAP_DOMAIN_TAKEN: 500,
  CR_SSH: 502,
  CR_REMOTE_COMMAND: 502,
  CR_STORE: 503,
  // The store is up but will not take this record (a constraint, a value it cannot hold).
  CR_STORE_REFUSED: 422,
  CR_CONFIRM: 400,
  CR_BUSY: 503,
  CR_FILE_LOCKED: 503,
  CR_REDIS_UNREACHABLE: 503,
  CR_NO_SIGNALS: 503,
  CR_PROCESSES_MISSING: 503,
  CR_NO_ANSWER: 504,
  CR_TIMED_OUT: 504,
};

/** The status the web answers `err` with. */
export function httpStatus(err: CloudRoutesError): number {
  // A usage error that names a field of the request is the request's fault, even "no such reaction" in a monitor's list;
  // a secret the server holds but cannot read names its field too, and stays the server's fault.
  if (err.field && err.usage) return 400;
  return HTTP_STATUS[err.code] ?? 500;
}

/** The problems' sentences, and the first one's field as the error's. */
function problemsOf(problems: (FieldProblem | string)[]): { text: string; field?: string } {
  const first = problems.find((p): p is FieldProblem => typeof p !== 'string');
  return { text: problems.map((p) => (typeof p === 'string' ? p : p.message)).join('; '), field: first?.path };
}

export const errors = {
  commandsNotAllowed: (where: 'worker' | 'sink') =>
    new CloudRoutesError('CR_COMMANDS_NOT_ALLOWED', `commands are not allowed on this ${where}: start it with --allow-commands`, false),
  ssh: (kind: SshFailure, message: string) => new SshError(kind, message),
  timedOut: (elapsedMs: number) => new TimedOut(elapsedMs),
  badEntry: (field: string, problem: string) => new BadEntry(field, problem),
  badRequest: (message: string, field?: string) => new CloudRoutesError('CR_BAD_REQUEST', message, true, field),
  badTime: (field: string, value: string) =>
    new CloudRoutesError('CR_BAD_REQUEST', `${field} "${value}" is not a time: give epoch milliseconds or ISO 8601 (2026-01-31T12:00:00Z)`, true, field),
  badBody: (reason: string | undefined) => new CloudRoutesError('CR_BAD_JSON', reason ?? 'the request body is not valid JSON', true, 'body'),
  unauthorized: (reason: string) => new CloudRoutesError('CR_UNAUTHORIZED', reason),
  throttled: (source: string, waitMs: number) =>
    new CloudRoutesError('CR_THROTTLED', `too many failed authentications from ${source}; try again in ${Math.ceil(waitMs / 1000)} s`),
  readOnly: (keyName: string) => new CloudRoutesError('CR_READ_ONLY', `API key "${keyName}" is read-only; this call changes configuration`),
  noRoute: (method: string, path: string) => new CloudRoutesError('CR_NOT_FOUND', `no route ${method} ${path}; see /api/v1/openapi.json`),
  wrongEndpoint: (monitorId: string, ctype: string, wanted: string, where: string | undefined) =>
    new CloudRoutesError('CR_WRONG_ENDPOINT', `monitor "${monitorId}" is a ${ctype} monitor, not a ${wanted} one${where ? `: use ${where}` : ''}`),
  busy: (monitorId: string) =>
    new CloudRoutesError('CR_BUSY', `the result for monitor "${monitorId}" was recorded but could not be sent on: Redis has not confirmed told results for a while and their outbox is full; retry shortly`, false),
  internal: () => new CloudRoutesError('CR_INTERNAL', 'internal error; see the web process log', false),
  badScriptReply: (script: string, problem: string) =>
    new CloudRoutesError('CR_INTERNAL', `the ${script} script of src/core/lua answered ${problem}: this process and its scripts differ; reinstall CloudRoutes and restart the process`, false),
  redisUnreachable: (url: string, reason: string) =>
    new CloudRoutesError('CR_REDIS_UNREACHABLE', `Redis at ${url} is unreachable (${reason}); start CloudRoutes ("npm start") or set REDIS_URL`, false),
  redisNoAnswer: (url: string, ms: number) =>
    new CloudRoutesError('CR_REDIS_UNREACHABLE', `redis-server did not answer at ${url} within ${ms} ms; see redis/redis.log in the data dir`, false),
  redisNotConnected: (state: string) => new CloudRoutesError('CR_REDIS_UNREACHABLE', `Redis is not connected (${state})`, false),
  noAnswer: (what: string, ms: number) => new CloudRoutesError('CR_NO_ANSWER', `${what} did not answer within ${ms} ms`, false),
  noSignals: () => new CloudRoutesError('CR_NO_SIGNALS', 'this worker has no Redis connection to read signals from', false),
  storeRecentlyDown: (spec: string, retryMs: number) =>
    new CloudRoutesError('CR_STORE', `store of record ${spec} was unreachable less than ${retryMs} ms ago`, false),
  typescriptMissing: (file: string, reason: string) =>
    new CloudRoutesError('CR_TYPESCRIPT_MISSING', `${file} is TypeScript, and loading it needs the "typescript" package (${reason}); install it next to CloudRoutes (npm install typescript)`, false),
  moduleSyntax: (where: string, text: string) => new CloudRoutesError('CR_MODULE_SYNTAX', `${where}: ${text}`, false),
  remoteNoExitStatus: (command: string) => new CloudRoutesError('CR_REMOTE_COMMAND', `${command} ended without an exit status`, false),
  remoteExit: (command: string, code: number, stderr: string) =>
    new CloudRoutesError('CR_REMOTE_COMMAND', stderr || `${command} exited with status ${code}`, false),
  remoteOutput: (what: string, text: string) => new CloudRoutesError('CR_REMOTE_COMMAND', `${what}: ${text}`, false),
  badModuleName: (kind: string, name: string) =>
    new CloudRoutesError('CR_BAD_MODULE_NAME', `${kind} name "${name}" is not a plain module name: use lowercase letters, digits and dashes (${PLAIN_NAME.source})`),
  moduleNotFound: (kind: string, name: string, searched: string[]) =>
    new CloudRoutesError('CR_MODULE_NOT_FOUND', `${kind} "${name}" is not installed (looked in ${searched.join(', ')}); run "cloudroutes modules" to list the installed ones`),
  moduleInvalid: (kind: string, name: string, reason: string) =>
    new CloudRoutesError('CR_MODULE_INVALID', `${kind} module "${name}" is broken: ${reason}`, false),
  badData: (what: string, problems: (FieldProblem | string)[]) => {
    const { text, field } = problemsOf(problems);
    return new CloudRoutesError('CR_BAD_DATA', `data for ${what} does not match its schema: ${text}`, true, field);
  },
  badJson: (what: string, reason: string) =>
    new CloudRoutesError('CR_BAD_JSON', `${what} is not valid JSON (${reason}); quote it for the shell, e.g. --data '{"url":"http://127.0.0.1:8080/"}'`),
  badInterval: (input: string) =>
    new CloudRoutesError('CR_BAD_INTERVAL', `interval "${input.slice(0, 40)}" is invalid: ${intervalProblem(undefined)}`),
  badSetting: (name: string, value: string, expected: string) =>
    new CloudRoutesError('CR_BAD_SETTING', `setting ${name}="${value}" is invalid: ${expected}`),
  noSuchMonitor: (id: string) =>
    new CloudRoutesError('CR_NO_SUCH_MONITOR', `monitor "${id}" does not exist; "cloudroutes monitor list" shows the monitors`),
  noSuchReaction: (id: string) =>
    new CloudRoutesError('CR_NO_SUCH_REACTION', `reaction "${id}" does not exist; create it first with "cloudroutes reaction add" or check "cloudroutes reaction list"`),
  noSuchIncident: (monitorId: string, ref: string, zone: string | undefined) =>
    new CloudRoutesError('CR_NOT_FOUND', `monitor "${monitorId}" has no incident ${ref}${zone ? ` in zone ${zone}` : ''} in the window searched; "cloudroutes incident list --monitor ${monitorId}" shows its incidents (--since widens the window)`),
  noSuchTarget: (name: string) =>
    new CloudRoutesError('CR_NO_SUCH_TARGET', `target "${name}" has no budget set; "cloudroutes target list" shows the targets and their budgets, "cloudroutes target set ${name} --max-runs N --per DURATION" gives it one`),
  reactionInUse: (id: string, monitors: string[]) =>
    new CloudRoutesError('CR_REACTION_IN_USE', `reaction "${id}" is used by monitor(s) ${monitors.join(', ')}; remove it from them first`),
  badDocument: (problems: string[]) =>
    new CloudRoutesError('CR_BAD_DOCUMENT', `the configuration document is invalid, nothing was changed: ${problems.join('; ')}`),
  secretKey: (reason: string) =>
    new CloudRoutesError('CR_SECRET_KEY', `CLOUDROUTES_SECRET_KEY ${reason}; set it to 64 hex characters (e.g. the output of "openssl rand -hex 32")`, false),
  store: (reason: string) => new CloudRoutesError('CR_STORE', `store of record: ${reason}`, false),
  storeRefused: (reason: string) =>
    new CloudRoutesError('CR_STORE_REFUSED', `store of record refused the record: ${reason}; the store is up and the record itself is at fault: fix the cause (a constraint, a value the store cannot hold) and write it again`, false),
  confirmNeeded: (what: string) => new CloudRoutesError('CR_CONFIRM', `${what}: nothing was deleted; run it again with --yes to confirm`),
  redisMissing: () =>
    new CloudRoutesError('CR_REDIS_MISSING', 'no Redis: REDIS_URL is not set and no redis-server is on PATH; install Redis (Debian: apt-get install redis-server) or set REDIS_URL=redis://host:6379', false),
  mainLoopEnded: (proc: string, loop: string, reason: string) =>
    new CloudRoutesError('CR_MAIN_LOOP_ENDED', `${proc}: its ${loop} loop ended (${reason}); exiting so that the process manager restarts it`, false),
  uncaughtException: (proc: string, reason: string) =>
    new CloudRoutesError('CR_UNCAUGHT_EXCEPTION', `${proc}: an exception nothing caught (${reason}) left it in an unknown state; exiting so that the process manager restarts it`, false),
  badCurveKey: (setting: string, reason: string) =>
    new CloudRoutesError('CR_BAD_CURVE_KEY', `setting ${setting}: ${reason}`),
  curveIncomplete: (setting: string, missing: string) =>
    new CloudRoutesError('CR_CURVE_INCOMPLETE', `${setting} is set but ${missing}; CURVE needs both (see "Many machines" in the README)`),
  plaintextRefused: (bind: string) =>
    new CloudRoutesError('CR_PLAINTEXT_REFUSED',
      `the broker would listen on ${bind} without CURVE: anyone who reaches its ports could run commands on the workers. ` +
      'Run "cloudroutes keys generate --name broker --out keys" and set CLOUDROUTES_CURVE_SECRET_KEY_FILE=keys/broker.key and ' +
      'CLOUDROUTES_CURVE_CLIENTS=<file of the clients\' public keys> here, and CLOUDROUTES_BROKER_PUBLIC_KEY plus a pair of their own on ' +
      'controls, workers, sinks and web; or bind to 127.0.0.1, or (not advised) start it with --insecure-plaintext'),
  keyFileExists: (path: string) =>
    new CloudRoutesError('CR_KEY_FILE_EXISTS', `${path} already exists; choose another --name or --out, or pass --force to replace it (clients holding the old key lose access)`),
  crossOrigin: (method: string, path: string) =>
    new CloudRoutesError('CR_CROSS_ORIGIN', `${method} ${path} with the dashboard's session cookie came from a page of another site (or without an Origin header) and was refused; scripts and tools send "Authorization: Bearer <key>" instead (set CLOUDROUTES_WEB_URL when the web process is reached through another address)`),
  secretUnreadable: (field: string, reason: string) =>
    new CloudRoutesError('CR_SECRET_UNREADABLE', `data.${field} cannot be decrypted: ${reason}; run with the CLOUDROUTES_SECRET_KEY it was written with (after changing the key: cloudroutes secrets rewrap --old-key-file), or set the secret again`, false, `data.${field}`),
  secretForeign: (field: string, reason: string) =>
    withField(new CloudRoutesError('CR_SECRET_FOREIGN', `data.${field} is a ciphertext this record does not take: ${reason}; send the secret itself`), `data.${field}`),
  secretMoved: (field: string, destination: string, from: string) =>
    withField(new CloudRoutesError('CR_SECRET_MOVED', `data.${field} is kept as stored but would now be sent to ${destination || '(none given)'} instead of ${from || '(none given)'}: send the secret again to send it somewhere new`), `data.${field}`),
  secretTransport: (field: string, other: string, to: unknown, from: unknown) =>
    withField(new CloudRoutesError('CR_SECRET_MOVED', `data.${field} is kept as stored but data.${other} would change from ${JSON.stringify(from) ?? '(none given)'} to ${JSON.stringify(to) ?? '(none given)'}, which changes how it is sent: send the secret again with this change`), `data.${field}`),
  rewrapRefused: (problems: string[]) =>
    new CloudRoutesError('CR_REWRAP_REFUSED', `secrets rewrap changed nothing: ${problems.join('; ')}; set those secrets again (monitor edit / reaction edit) or remove the records, then run it again`),
  curveRefused: (endpoint: string, publicKey: string, reason: string) =>
    new CloudRoutesError('CR_CURVE_REFUSED', `the broker at ${endpoint} refused this process's CURVE key ${publicKey} (${reason}): add it to the broker's CLOUDROUTES_CURVE_CLIENTS file and send the broker SIGHUP, and check that CLOUDROUTES_BROKER_PUBLIC_KEY is the broker's; exiting so that the process manager starts this process again`, false),
  plaintextRefusedByBroker: (endpoint: string, reason: string) =>
    new CloudRoutesError('CR_CURVE_REFUSED', `the broker at ${endpoint} refused this process's plaintext handshake (${reason}): it requires CURVE; give this process a key pair (cloudroutes keys generate) and CLOUDROUTES_BROKER_PUBLIC_KEY, and add its public key to the broker's clients file; exiting`, false),
  fileLocked: (file: string, lock: string, ms: number) =>
    new CloudRoutesError('CR_FILE_LOCKED', `${file} stayed locked by another process for ${ms} ms (lock file ${lock}); if no cloudroutes process is using it, delete ${lock}`, false),
  failpoint: (name: string) => new CloudRoutesError('CR_FAILPOINT', `failpoint ${name} is on (CLOUDROUTES_FAILPOINTS); unset it to run normally`, false),
  processesMissing: (zone: string, monitors: number, missing: readonly string[]) =>
    new CloudRoutesError('CR_PROCESSES_MISSING',
      `zone "${zone}" has ${monitors} monitor(s) but no live ${missing.join(', ')}, so they are not all checked and recorded: ` +
      `start ${missing.map((k) => `"cloudroutes ${k}"`).join(', ')} (or restart their process manager's units); "cloudroutes cluster" lists the processes that stopped sending heartbeats`, false),
  testElsewhere: (monitorId: string, zone: string, zones: readonly string[]) =>
    new CloudRoutesError('CR_BAD_REQUEST', `monitor "${monitorId}" is not checked in zone "${zone}" (its zones: ${zones.join(', ')}): test it from one of them (CLOUDROUTES_ZONE)`, true, 'zone'),
  testNotInZone: (kind: 'monitor' | 'reaction', id: string, zone: string) =>
    new CloudRoutesError('CR_PROCESSES_MISSING', `${kind} "${id}" is in the store but not yet in zone "${zone}"'s Redis: is the zone's bridge running? ("cloudroutes rebuild-redis" writes it)`, false),
  reactionNotUsed: (reactionId: string, monitorId: string, used: readonly string[], field: string) =>
    new CloudRoutesError('CR_BAD_REQUEST', `monitor "${monitorId}" does not use reaction "${reactionId}" (its reactions: ${used.join(', ') || 'none'}): test it with a monitor that does, or add it with "cloudroutes monitor edit ${monitorId} --reactions ..."`, true, field),
  testNoBroker: (zone: string, brokers: readonly string[], ms: number) =>
    new CloudRoutesError('CR_NO_ANSWER', `no broker took the test job within ${ms} ms: is a broker running in zone "${zone}" at ${brokers.join(', ')} (CLOUDROUTES_BROKER), and does it accept this process's CURVE key?`, false),
  testNoWorker: (zone: string, monitorId: string, ms: number) =>
    new CloudRoutesError('CR_NO_ANSWER', `no worker answered the test of monitor "${monitorId}" within ${ms} ms (its timeout and 5 s): is a worker running in zone "${zone}"? ("cloudroutes cluster" lists the live processes)`, false),
  testNoSink: (zone: string, reactionId: string, ms: number) =>
    new CloudRoutesError('CR_NO_ANSWER', `no sink answered the test of reaction "${reactionId}" within ${ms} ms (the reaction timeout and 7 s): is a sink running in zone "${zone}"? ("cloudroutes cluster" lists the live processes)`, false),
  zapDomainTaken: (domain: string) =>
    new CloudRoutesError('CR_ZAP_DOMAIN_TAKEN', `ZAP domain ${domain} is already served in this process: run one broker per jobs port`, false),
};

function withField(err: CloudRoutesError, field: string): CloudRoutesError {
  err.field = field;
  return err;
}

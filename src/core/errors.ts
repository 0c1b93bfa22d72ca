/** The one catalogue of CloudRoutes errors: a stable code, a message naming what is wrong and what to do. */
import { intervalProblem } from './limits.js';

export type ErrorCode =
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
  | 'CR_BAD_DOCUMENT'
  | 'CR_SECRET_KEY'
  | 'CR_STORE'
  | 'CR_REDIS_MISSING'
  | 'CR_BAD_MESSAGE'
  | 'CR_MAIN_LOOP_ENDED'
  | 'CR_BAD_CURVE_KEY'
  | 'CR_CURVE_INCOMPLETE'
  | 'CR_PLAINTEXT_REFUSED'
  | 'CR_KEY_FILE_EXISTS'
  | 'CR_CROSS_ORIGIN'
  | 'CR_SECRET_UNREADABLE'
  | 'CR_SECRET_MOVED'
  | 'CR_REWRAP_REFUSED';

export class CloudRoutesError extends Error {
  readonly code: ErrorCode;
  /** Usage errors make the CLI exit with status 2. */
  readonly usage: boolean;
  /** The input field at fault (`interval`, `data.port`, `monitors[2].ctype`), when known. */
  field?: string;
  constructor(code: ErrorCode, message: string, usage = true) {
    super(message);
    this.name = 'CloudRoutesError';
    this.code = code;
    this.usage = usage;
  }
}

export const errors = {
  badModuleName: (kind: string, name: string) =>
    new CloudRoutesError('CR_BAD_MODULE_NAME', `${kind} name "${name}" is not a plain module name: use lowercase letters, digits and dashes (^[a-z0-9][a-z0-9-]*$)`),
  moduleNotFound: (kind: string, name: string, searched: string[]) =>
    new CloudRoutesError('CR_MODULE_NOT_FOUND', `${kind} "${name}" is not installed (looked in ${searched.join(', ')}); run "cloudroutes modules" to list the installed ones`),
  moduleInvalid: (kind: string, name: string, reason: string) =>
    new CloudRoutesError('CR_MODULE_INVALID', `${kind} module "${name}" is broken: ${reason}`, false),
  badData: (what: string, problems: string[]) =>
    new CloudRoutesError('CR_BAD_DATA', `data for ${what} does not match its schema: ${problems.join('; ')}`),
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
  reactionInUse: (id: string, monitors: string[]) =>
    new CloudRoutesError('CR_REACTION_IN_USE', `reaction "${id}" is used by monitor(s) ${monitors.join(', ')}; remove it from them first`),
  badDocument: (problems: string[]) =>
    new CloudRoutesError('CR_BAD_DOCUMENT', `the configuration document is invalid, nothing was changed: ${problems.join('; ')}`),
  secretKey: (reason: string) =>
    new CloudRoutesError('CR_SECRET_KEY', `CLOUDROUTES_SECRET_KEY ${reason}; set it to 64 hex characters (e.g. the output of "openssl rand -hex 32")`, false),
  store: (reason: string) => new CloudRoutesError('CR_STORE', `store of record: ${reason}`, false),
  redisMissing: () =>
    new CloudRoutesError('CR_REDIS_MISSING', 'no Redis: REDIS_URL is not set and no redis-server is on PATH; install Redis (Debian: apt-get install redis-server) or set REDIS_URL=redis://host:6379', false),
  mainLoopEnded: (proc: string, loop: string, reason: string) =>
    new CloudRoutesError('CR_MAIN_LOOP_ENDED', `${proc}: its ${loop} loop ended (${reason}); exiting so that the process manager restarts it`, false),
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
    withField(new CloudRoutesError('CR_SECRET_UNREADABLE', `data.${field} cannot be decrypted: ${reason}; set the secret again`), `data.${field}`),
  secretMoved: (field: string, destination: string, from: string) =>
    withField(new CloudRoutesError('CR_SECRET_MOVED', `data.${field} is kept as stored but would now be sent to ${destination || '(none given)'} instead of ${from || '(none given)'}: send the secret again to send it somewhere new`), `data.${field}`),
  rewrapRefused: (problems: string[]) =>
    new CloudRoutesError('CR_REWRAP_REFUSED', `secrets rewrap changed nothing: ${problems.join('; ')}; set those secrets again (monitor edit / reaction edit) or remove the records, then run it again`),
};

function withField(err: CloudRoutesError, field: string): CloudRoutesError {
  err.field = field;
  return err;
}

/** The one catalogue of CloudRoutes errors: a stable code, a message naming what is wrong and what to do. */

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
  | 'CR_COMMANDS_NOT_ALLOWED';

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
    new CloudRoutesError('CR_BAD_INTERVAL', `interval "${input}" is invalid: it must be at least 1s (e.g. 10s, 1m, 5m)`),
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
  commandsNotAllowed: (where: 'worker' | 'sink') =>
    new CloudRoutesError('CR_COMMANDS_NOT_ALLOWED', `commands are not allowed on this ${where}: start it with --allow-commands`, false),
};

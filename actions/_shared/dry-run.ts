/**
 * What a reaction returns under ctx.dryRun: 'ran' with a message saying exactly what it would have done (the request,
 * the command, the email), every secret value of its data masked. Nothing is sent, run or changed.
 */
import type { Command, Host } from '../../plugin-support/host.js';
import { shellQuote } from '../../plugin-support/ssh-host.js';
import type { FieldSchema, ReactionEvent } from '../../src/core/types.js';
import type { ReactionRequest } from './http.js';
import { masked } from './outcome.js';

/** Longest body quoted in a dry run's message; a longer one is cut there, and the message says so. */
export const DRY_BODY_MAX = 2000;

/** Header names that carry a credential, shown as *** whether or not the data marks them secret. */
const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|password|api-?key|signature/i;

/** A dry run's return. */
export interface DryRunReturn {
  outcome: 'ran';
  message: string;
}

/** What a dry run says: what it would do, what it could not know without acting, and the body it would send. */
export interface WouldDo {
  /** "send POST https://... with headers ...", "run /bin/sh -c '...' on the sink's machine". */
  what: string;
  /** What only acting would tell (which minions match, whether the credentials hold). */
  unknown?: string;
  body?: string;
}

/** `body` cut at DRY_BODY_MAX characters, saying how long it was. */
function cut(body: string): string {
  return body.length > DRY_BODY_MAX ? `${body.slice(0, DRY_BODY_MAX)}… (cut at ${DRY_BODY_MAX} of ${body.length} characters)` : body;
}

/**
 * 'ran' with "dry run, nothing done: would <what>; <unknown>; body: <body>" on one line (line breaks shown as \n).
 * Secret values are masked before the body is cut, so half a secret at the cut is never shown.
 */
export function wouldHave(would: WouldDo, event: ReactionEvent, fields: FieldSchema): DryRunReturn {
  const mask = (text: string) => masked(text, event, fields);
  const parts = [`dry run, nothing done: would ${mask(would.what)}`];
  if (would.unknown) parts.push(`not known without acting: ${mask(would.unknown)}`);
  if (would.body !== undefined) parts.push(would.body === '' ? 'empty body' : `body: ${cut(mask(would.body))}`);
  return { outcome: 'ran', message: parts.join('; ').replace(/\r?\n/g, '\\n') };
}

/** The headers as "name: value, ...", a credential's value as ***. */
export function shownHeaders(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${CREDENTIAL_HEADER.test(name) ? '***' : value}`)
    .join(', ');
}

/** What a dry run of an HTTP request says: method, URL (its secret part masked), headers and body. */
export function wouldSend(req: ReactionRequest, event: ReactionEvent): DryRunReturn {
  // shownUrl is set when the URL itself is a secret (a webhook URL): its origin is all that may be shown.
  const url = req.shownUrl !== undefined ? `${req.shownUrl}/*** (the rest of the URL is secret)` : req.url;
  const headers = shownHeaders(req.headers);
  const what = `send ${req.method} ${url}${headers ? ` with headers ${headers}` : ''}`;
  return wouldHave({ what, unknown: req.dryRunUnknown, body: req.body ?? (req.method === 'GET' || req.method === 'DELETE' ? undefined : '') }, event, req.fields);
}

const VARIABLE = /\$\{(CR_[A-Z_]+)\}/g;

/**
 * What a dry run of a command says: the shell line or argv and where it would run (the sink's machine, or over SSH
 * to user@host:port), with the values of the CR_* variables a shell line refers to.
 */
export function wouldRun(command: Command, host: Host, env: Record<string, string>, event: ReactionEvent, fields: FieldSchema): DryRunReturn {
  const line = 'shell' in command ? `/bin/sh -c ${shellQuote(command.shell)}` : `argv ${JSON.stringify(command.argv)}`;
  const where = host.where || " on the sink's machine";
  const used = 'shell' in command ? [...new Set([...command.shell.matchAll(VARIABLE)].map((m) => m[1]!))] : [];
  const vars = used.filter((name) => name in env).map((name) => `${name}=${JSON.stringify(env[name])}`);
  return wouldHave({ what: `run ${line}${where}${vars.length ? ` with ${vars.join(', ')}` : ''}` }, event, fields);
}

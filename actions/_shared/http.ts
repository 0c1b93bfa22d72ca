/**
 * One HTTP request for a reaction: honours ctx.signal, never throws, logs why a run failed with monitorId and
 * reactionId; under ctx.dryRun it sends nothing and says what it would have sent.
 */
import { request, type Dispatcher } from 'undici';
import type { FieldSchema, ReactionContext, ReactionEvent } from '../../src/core/types.js';
import { wouldSend, type DryRunReturn } from './dry-run.js';
import { masked, oneLine, withMessage } from './outcome.js';

export interface ReactionRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Whether an answer's status means the run was done; default 2xx. */
  ok?: (status: number) => boolean;
  /** What the answer body must show for the run to count as done (a vendor's JSON), or a reason it does not. */
  checkBody?: (text: string) => string | undefined;
  /** The address as logged, when the URL itself is a secret (a webhook URL); default the URL. */
  shownUrl?: string;
  /** The module's meta.fields: the secret values of the data they mark never appear in the returned message. */
  fields: FieldSchema;
  /** The connection pool to send through (e.g. one that accepts any certificate); default undici's global one. */
  dispatcher?: Dispatcher;
  /** What a dry run cannot know without sending (which minions match), said in its message. */
  dryRunUnknown?: string;
}

const is2xx = (status: number) => status >= 200 && status < 300;

/** Longest part of an answer body quoted in a failure's message. */
const ANSWER_QUOTED = 120;

/** What sendRequest returns: 'ran', 'failed' with a message naming the request and what went wrong, or a dry run's 'ran' with what it would have sent. */
export type RequestReturn = 'ran' | { outcome: 'failed'; message: string } | DryRunReturn;

/**
 * Sends `req`; 'ran' when the answer is accepted, else 'failed' with the reason logged and as the message. Under
 * ctx.dryRun nothing is sent: 'ran' with the method, URL, headers and body it would have sent, secrets masked.
 */
export async function sendRequest(event: ReactionEvent, ctx: ReactionContext, req: ReactionRequest): Promise<RequestReturn> {
  if (ctx.dryRun) return wouldSend(req, event);
  const label = `${event.reaction.rtype} reaction "${event.reaction.name}"`;
  const shown = req.shownUrl ?? req.url;
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id, url: shown };
  const failed = (text: string) => withMessage('failed', text, event, req.fields);
  try {
    const res = await request(req.url, { method: req.method as 'POST', headers: req.headers, body: req.body, signal: ctx.signal, dispatcher: req.dispatcher });
    const text = await res.body.text();
    // An answer may quote the request back (a token, a key): logged and quoted with those values masked.
    const answer = () => masked(text, event, req.fields);
    if (!(req.ok ?? is2xx)(res.statusCode)) {
      ctx.logger.warn({ ...where, httpStatus: res.statusCode, answer: answer().slice(0, 500) }, `${label}: ${req.method} ${shown} answered HTTP ${res.statusCode}`);
      const quoted = oneLine(answer(), ANSWER_QUOTED);
      return failed(`${req.method} ${shown} answered HTTP ${res.statusCode}${quoted ? `: ${quoted}` : ''}`);
    }
    const problem = req.checkBody?.(text);
    if (problem) {
      ctx.logger.warn({ ...where, httpStatus: res.statusCode, answer: answer().slice(0, 500) }, `${label}: ${req.method} ${shown}: ${problem}`);
      return failed(`${req.method} ${shown}: ${problem}`);
    }
    return 'ran';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    const reason = ctx.signal.aborted ? 'the deadline passed before it answered' : `${code}: ${(err as Error).message}`;
    ctx.logger.warn({ ...where, err: (err as Error).message }, `${label}: ${req.method} ${shown} failed: ${reason}`);
    return failed(`${req.method} ${shown}: ${ctx.signal.aborted ? reason : `${code} ${(err as Error).message}`}`);
  }
}

/** `base` without trailing slashes followed by `path`. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** The scheme and host of `url` only, to log an address whose path is a secret. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

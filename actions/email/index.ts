/** Reaction: sends an email through an SMTP server with nodemailer. */
import nodemailer from 'nodemailer';
import { render } from '../../src/core/template.js';
import type { ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { wouldHave } from '../_shared/dry-run.js';
import { withMessage } from '../_shared/outcome.js';

export const DEFAULT_SUBJECT = '[CloudRoutes] {{monitor.name}} is {{status}}';
export const DEFAULT_BODY =
  'Monitor {{monitor.name}} ({{monitor.id}}) is {{status}}, was {{previousStatus}}.\n' +
  'Failed checks in a row: {{failcount}}\nZone: {{zone}}\nChecked at: {{checkedAt}}\n\n{{message}}\n\n-- reaction {{reaction.name}}';

const ADDRESS = '^[^\\s@<>]+@[^\\s@<>]+$|^[^<>]*<[^\\s@<>]+@[^\\s@<>]+>$';

export const meta: ReactionModule['meta'] = {
  title: 'Email',
  kind: 'notify',
  dryRun: true,
  description:
    'Sends a plain-text email through an SMTP server (nodemailer): implicit TLS (port 465), STARTTLS required (the ' +
    'default, port 587) or no TLS at all (a local relay). The subject and body are templates: {{monitor.name}}, ' +
    '{{status}}, {{message}} and the other event fields are filled in (an unknown field is refused when the reaction is ' +
    'saved). The run counts as done when the server accepts the message for every recipient; a refused login, a refused ' +
    'recipient, a network error or the deadline makes it failed, and the reason is logged and returned as the message. ' +
    'The password is stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      host: { type: 'string', description: 'SMTP server host name or address.', minLength: 1 },
      port: { type: 'integer', description: 'SMTP port, default 465 with security tls and 587 otherwise.', minimum: 1, maximum: 65535 },
      security: { type: 'string', description: 'tls: TLS from the start; starttls (default): upgrade and refuse a server without STARTTLS; none: plain text.', enum: ['tls', 'starttls', 'none'], default: 'starttls' },
      tlsVerify: { type: 'boolean', description: 'Check the server certificate, default true; false only for a relay with a self-signed certificate.', default: true },
      user: { type: 'string', description: 'Login name; no login when absent.', minLength: 1 },
      password: { type: 'string', description: 'Login password; stored encrypted, for host and port only (changing them, security or tlsVerify needs it sent again).', secret: true, boundTo: { host: 'host', port: 'port', also: ['security', 'tlsVerify'] } },
      from: { type: 'string', description: 'Sender address, e.g. "CloudRoutes <alerts@example.com>".', pattern: ADDRESS },
      to: { type: 'array', description: 'Recipient addresses.', items: { type: 'string', pattern: ADDRESS } },
      subject: { type: 'string', description: `Subject template, default "${DEFAULT_SUBJECT}".`, minLength: 1, template: true },
      body: { type: 'string', description: 'Body template (plain text), default a summary of the event.', minLength: 1, template: true },
    },
    required: ['host', 'from', 'to'],
    additionalProperties: false,
  },
};

/** How a dry run names each security setting. */
const SECURITY: Record<string, string> = { tls: 'TLS from the start', starttls: 'STARTTLS required', none: 'no TLS' };

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The message of a run whose recipients `rejected` the server at `server` refused, with its answer when known. */
function refused(server: string, rejected: string[], response?: string): string {
  return `SMTP server ${server} refused recipient${rejected.length > 1 ? 's' : ''} ${rejected.join(', ')}${response ? `: ${response}` : ''}`;
}

/** Sends the message; 'ran' when the server accepted it for every recipient, else 'failed' with the reason logged and as the message. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  const data = event.reaction.data;
  const security = str(data.security) ?? 'starttls';
  const host = String(data.host);
  const port = typeof data.port === 'number' ? data.port : security === 'tls' ? 465 : 587;
  const to = Array.isArray(data.to) ? (data.to as string[]) : [];
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id, smtp: `${host}:${port}` };
  const label = `email reaction "${event.reaction.name}"`;
  const failed = (text: string) => withMessage('failed', text, event, meta.fields);
  if (!to.length) {
    ctx.logger.warn(where, `${label}: data.to lists no recipient; add one with reaction edit`);
    return failed('data.to lists no recipient; add one with reaction edit');
  }
  const mail = {
    from: String(data.from),
    to,
    subject: render(str(data.subject) ?? DEFAULT_SUBJECT, event),
    text: render(str(data.body) ?? DEFAULT_BODY, event),
  };
  if (ctx.dryRun) {
    const login = str(data.user) ? `, logging in as ${str(data.user)}` : ', without logging in';
    const what = `send an email through SMTP server ${host}:${port} (${SECURITY[security] ?? security}${data.tlsVerify === false ? ', certificate not checked' : ''}${login}) from ${mail.from} to ${to.join(', ')} with subject "${mail.subject}"`;
    return wouldHave({ what, body: mail.text }, event, meta.fields);
  }
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    auth: str(data.user) ? { user: str(data.user), pass: str(data.password) ?? '' } : undefined,
    tls: { rejectUnauthorized: data.tlsVerify !== false, servername: host },
  });
  // nodemailer takes no AbortSignal: when the deadline passes, close the connection and stop waiting.
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      transport.close();
      reject(new Error('aborted'));
    };
  });
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  aborted.catch(() => {});
  try {
    const info = await Promise.race([
      transport.sendMail(mail),
      aborted,
    ]);
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length) {
      ctx.logger.warn({ ...where, rejected }, `${label}: ${host}:${port} refused recipient(s) ${rejected.join(', ')}`);
      return failed(refused(`${host}:${port}`, rejected));
    }
    return 'ran';
  } catch (err) {
    const e = err as Error & { code?: string; response?: string; rejected?: unknown[] };
    const reason = ctx.signal.aborted ? 'the deadline passed before the server took the message' : `${e.code ?? e.name}: ${e.message}`;
    ctx.logger.warn({ ...where, err: e.message, smtpCode: e.code }, `${label}: sending through ${host}:${port} failed: ${reason}`);
    // Every recipient refused: nodemailer throws EENVELOPE, with the addresses and the server's answer.
    if (!ctx.signal.aborted && e.code === 'EENVELOPE' && e.rejected?.length) return failed(refused(`${host}:${port}`, e.rejected.map(String), e.response));
    return failed(`sending through SMTP server ${host}:${port} failed: ${reason}`);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    transport.close();
  }
}

/** Check: a TLS server's certificate is not close to expiry, matches the host name and (by default) chains to a trusted CA. */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../../plugin-support/fields.js';
import { describeNetError, hostPort, ms } from '../../plugin-support/net-errors.js';

const DAY_MS = 86_400_000;
const DEFAULT_MIN_DAYS = 14;
// Verification results that are not about the chain: expiry and the name are judged by the check itself.
const NOT_CHAIN = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

export const meta: PluginMeta = {
  title: 'TLS certificate',
  description:
    'Opens a TLS connection to host:port (SNI servername = servername or host) and reads the server certificate even ' +
    'when it does not verify, then judges it itself: failed when it has expired, is not valid yet, or has fewer than ' +
    'minDays days left (default 14); failed when it does not match the name (servername or host, as ' +
    'tls.checkServerIdentity does, IP addresses against IP SANs); failed when its chain is not trusted by the system ' +
    'CAs (self-signed, unknown issuer) unless allowUntrusted is true. Healthy names the expiry date. Refused ' +
    'connections, DNS failures, handshake errors and timeouts fail with the reason. Metric: daysLeft.',
  fields: {
    type: 'object',
    properties: {
      host: { type: 'string', description: 'Host name or IP address to connect to.', minLength: 1 },
      port: { type: 'integer', description: 'TCP port (default 443).', minimum: 1, maximum: 65535, default: 443 },
      servername: { type: 'string', description: 'Name sent as SNI and that the certificate must match (default: host).', minLength: 1 },
      minDays: { type: 'number', description: 'Fewest days the certificate must still be valid (default 14).', minimum: 0, maximum: 3650, default: DEFAULT_MIN_DAYS },
      allowUntrusted: {
        type: 'boolean',
        description: 'true: a chain the system CAs do not trust (self-signed, private CA) is accepted; expiry and name are still checked. Default false.',
        default: false,
      },
      timeoutMs: timeoutField,
    },
    required: ['host'],
    additionalProperties: false,
  },
};

interface Handshake {
  cert?: PeerCertificate;
  authorized: boolean;
  authorizationError?: string;
  error?: string;
}

/** Connects, completes the handshake without rejecting the certificate, and closes the connection. */
function handshake(host: string, port: number, servername: string, timeoutMs: number, signal: AbortSignal): Promise<Handshake> {
  return new Promise((resolve) => {
    const started = performance.now();
    let connected = false;
    let done = false;
    const socket: TLSSocket = connect({ host, port, servername: isIP(servername) ? undefined : servername, rejectUnauthorized: false });
    const finish = (r: Handshake): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onDeadline);
      socket.destroy();
      resolve(r);
    };
    const onDeadline = (): void => {
      const phase = connected ? 'in the TLS handshake with' : 'connecting to';
      finish({ authorized: false, error: `timed out after ${Math.round(performance.now() - started)} ms ${phase} ${hostPort(host, port)}` });
    };
    const timer = setTimeout(onDeadline, timeoutMs);
    if (signal.aborted) return onDeadline();
    signal.addEventListener('abort', onDeadline, { once: true });
    socket.once('connect', () => (connected = true));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const error = socket.authorizationError;
      finish({
        cert: cert && cert.valid_to ? cert : undefined,
        authorized: socket.authorized,
        authorizationError: error === undefined ? undefined : String((error as unknown as { code?: string }).code ?? error),
      });
    });
    socket.on('error', (err) => finish({ authorized: false, error: describeNetError(err, host, port) }));
  });
}

const day = (d: Date): string => d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** Reads host:port's certificate and judges its expiry, name and chain. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const host = job.data.host;
  if (typeof host !== 'string' || !host) return { status: 'unknown', message: `monitor "${job.name}": data.host must be a non-empty string` };
  const port = typeof job.data.port === 'number' ? job.data.port : 443;
  const name = typeof job.data.servername === 'string' && job.data.servername ? job.data.servername : host;
  const minDays = typeof job.data.minDays === 'number' ? job.data.minDays : DEFAULT_MIN_DAYS;
  const started = performance.now();
  const hs = await handshake(host, port, name, timeLimit(job), ctx.signal);
  const latencyMs = ms(performance.now() - started);
  if (hs.error) return { status: 'failed', message: hs.error, latencyMs };
  if (!hs.cert) return { status: 'failed', message: `${hostPort(host, port)} sent no certificate`, latencyMs };
  const cert = hs.cert;
  const notAfter = new Date(cert.valid_to);
  const notBefore = new Date(cert.valid_from);
  const now = Date.now();
  const daysLeft = Math.round(((notAfter.getTime() - now) / DAY_MS) * 100) / 100;
  const result = (status: 'healthy' | 'failed', message: string): CheckResult => ({ status, message, latencyMs, metrics: { daysLeft } });
  const subject = `certificate of ${hostPort(host, port)}`;
  if (daysLeft < 0) return result('failed', `${subject} expired on ${day(notAfter)}`);
  if (notBefore.getTime() > now) return result('failed', `${subject} is not valid before ${day(notBefore)}`);
  if (daysLeft < minDays) return result('failed', `${subject} expires on ${day(notAfter)}, in ${daysLeft} days (fewer than ${minDays})`);
  const mismatch = checkServerIdentity(name, cert);
  if (mismatch) return result('failed', `${subject} does not match ${name}: ${mismatch.message}`);
  const trusted = hs.authorized || (hs.authorizationError !== undefined && NOT_CHAIN.has(hs.authorizationError));
  if (!trusted && job.data.allowUntrusted !== true) {
    return result('failed', `${subject} is not trusted (${hs.authorizationError}); set allowUntrusted to accept it`);
  }
  const chain = trusted ? 'trusted chain' : `untrusted chain (${hs.authorizationError}) allowed`;
  return result('healthy', `${subject} valid until ${day(notAfter)}, ${Math.floor(daysLeft)} days left, ${chain}`);
}

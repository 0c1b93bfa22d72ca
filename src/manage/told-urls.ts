/** The URLs a webhook or heartbeat monitor is told through, as the CLI and the API print them when it is added. */
import { decryptFields } from '../core/crypto.js';
import type { FieldSchema, Monitor } from '../core/types.js';

// The told checks' token field (checks/_shared/told.ts) as far as its decryption goes: secret, bound to nothing else.
const TOKEN: FieldSchema = { properties: { token: { type: 'string', secret: true } } };

/** A told monitor's token decrypted with `secretKey` (bound to the monitor's id), or undefined when it has none. */
export function toldToken(monitor: Pick<Monitor, 'id' | 'data'>, secretKey: Buffer | undefined): string | undefined {
  const { token } = decryptFields(secretKey, { token: monitor.data.token }, TOKEN, { kind: 'monitor', id: monitor.id });
  return typeof token === 'string' && token ? token : undefined;
}

export interface ToldEndpoint {
  token: string;
  /** Where to ping (heartbeat) or post (webhook, datadog-webhook). */
  url: string;
  /** Heartbeat only: where to report a failure at once. */
  failUrl?: string;
}

/** The web process's address as callers reach it: CLOUDROUTES_WEB_URL, else http://127.0.0.1:<CLOUDROUTES_WEB_PORT or 8080>. */
export function webBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.CLOUDROUTES_WEB_URL || `http://127.0.0.1:${env.CLOUDROUTES_WEB_PORT || 8080}`).replace(/\/+$/, '');
}

/** The token and URLs of a told monitor (its data decrypted with `secretKey`); undefined for monitors that are polled. */
export function toldEndpoint(monitor: Pick<Monitor, 'id' | 'ctype' | 'data'>, secretKey: Buffer | undefined, base = webBaseUrl()): ToldEndpoint | undefined {
  if (!['heartbeat', 'webhook', 'datadog-webhook'].includes(monitor.ctype)) return undefined;
  const token = toldToken(monitor, secretKey);
  if (!token) return undefined;
  if (monitor.ctype === 'heartbeat') return { token, url: `${base}/ping/${token}`, failUrl: `${base}/ping/${token}/fail` };
  const url = `${base}/api/v1/webhook/${monitor.id}${monitor.ctype === 'datadog-webhook' ? '/datadog' : ''}`;
  return { token, url };
}

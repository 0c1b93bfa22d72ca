/** The options every CloudRoutes ZeroMQ socket is made with: a cap on message size and, when configured, CURVE. */
import type { CurveSettings } from './curve.js';
import { errors } from './errors.js';

/** Largest message any socket accepts; a peer that sends more is disconnected by ZeroMQ before anything is read. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** A broker socket's CURVE side: its own pair, and the ZAP domain its clients' keys are checked in. */
export interface CurveServer {
  publicKey: string;
  secretKey: string;
  zapDomain: string;
}

/** A client socket's CURVE side: the broker's public key and this process's pair. */
export interface CurveClient {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

/**
 * ZMTP heartbeats: a peer that stops answering (its machine cut off, so no TCP reset ever comes) is disconnected
 * after 3 s, and the jobs queued for it are moved and settled instead of waiting for TCP to give up.
 */
export const HEARTBEAT = { heartbeatInterval: 1000, heartbeatTimeout: 3000 } as const;

/** maxMessageSize, ZMTP heartbeats, plus the CURVE server or client options (none when `curve` is undefined). */
export function socketOptions(curve?: CurveServer | CurveClient): Record<string, string | number | boolean> {
  const base = { maxMessageSize: MAX_MESSAGE_BYTES, ...HEARTBEAT };
  if (!curve) return base;
  if ('zapDomain' in curve) {
    // zapEnforceDomain: with no ZAP handler answering, refuse every client rather than let any key in.
    return { ...base, curveServer: true, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey, zapDomain: curve.zapDomain, zapEnforceDomain: true };
  }
  return { ...base, curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey };
}

/** The CURVE options of a control, worker, sink or web process; undefined when neither the broker's key nor an own pair is set. */
export function clientCurve(s: CurveSettings): CurveClient | undefined {
  if (!s.brokerPublicKey && !s.pair) return undefined;
  if (!s.pair) throw errors.curveIncomplete('CLOUDROUTES_BROKER_PUBLIC_KEY', 'this process has no key pair of its own: set CLOUDROUTES_CURVE_SECRET_KEY_FILE to a key from "cloudroutes keys generate" and add its .pub to the broker\'s CLOUDROUTES_CURVE_CLIENTS file');
  if (!s.brokerPublicKey) throw errors.curveIncomplete('CLOUDROUTES_CURVE_SECRET_KEY', "the broker's public key is not: set CLOUDROUTES_BROKER_PUBLIC_KEY (or _FILE) to the broker's .pub");
  return { serverKey: s.brokerPublicKey, ...s.pair };
}

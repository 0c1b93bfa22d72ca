/** What a CURVE client says when the broker refuses it. */
import type { Logger } from 'pino';
import type { Socket } from 'zeromq';
import type { CurveClient } from './socket-options.js';

/**
 * Logs when the broker refuses this process's CURVE key. ZeroMQ does not retry a refused handshake, so the
 * line says what to do: allow the key on the broker, then restart this process.
 */
export function reportRefusal(socket: Socket, curve: CurveClient | undefined, logger: Logger): void {
  if (!curve) return;
  void (async () => {
    for await (const e of socket.events) {
      if (e.type !== 'handshake:error:auth' && e.type !== 'handshake:error:protocol') continue;
      logger.error({ endpoint: e.address, publicKey: curve.publicKey, err: e.error.message },
        "the broker refused this process's CURVE key (or CLOUDROUTES_BROKER_PUBLIC_KEY is not the broker's): add this public key to the broker's CLOUDROUTES_CURVE_CLIENTS file, send the broker SIGHUP, then restart this process");
    }
  })().catch(() => undefined);
}

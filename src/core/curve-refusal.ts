/** What a client of the broker does when the broker refuses its handshake. */
import type { Logger } from 'pino';
import type { Socket } from 'zeromq';
import { errors } from './errors.js';
import { fatal } from './main-loop.js';
import type { CurveClient } from './socket-options.js';

/**
 * Ends the process (exit 1, so its process manager starts it again) when the broker refuses this process's
 * handshake: ZeroMQ does not retry a refused handshake, and a process that stays up without its broker only
 * looks alive. The message says what to do: allow the key on the broker and send it SIGHUP, or give this
 * process the broker's public key. `also` gets every other event's type (a socket's events have one reader).
 */
export function reportRefusal(socket: Socket, curve: CurveClient | undefined, logger: Logger, also?: (type: string) => void): void {
  void (async () => {
    for await (const e of socket.events) {
      also?.(e.type);
      if (e.type !== 'handshake:error:auth' && e.type !== 'handshake:error:protocol') continue;
      const err = curve ? errors.curveRefused(e.address, curve.publicKey, e.error.message) : errors.plaintextRefusedByBroker(e.address, e.error.message);
      fatal(err, logger, { endpoint: e.address, ...(curve ? { publicKey: curve.publicKey } : {}) });
      return;
    }
  })().catch(() => undefined);
}

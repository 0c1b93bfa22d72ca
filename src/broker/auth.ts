/** Who may talk to a broker: CURVE with a ZAP check of each client's key, or plaintext only where nobody else can reach it. */
import type { Logger } from 'pino';
import type { Socket } from 'zeromq';
import type { Counters } from '../core/counters.js';
import { readAllowedClients, z85Encode, type CurvePair, type CurveSettings } from '../core/curve.js';
import { errors } from '../core/errors.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { CurveServer } from '../core/socket-options.js';
import { registerZapDomain } from './zap.js';

export interface BrokerCurve {
  /** The broker's own pair. */
  pair: CurvePair;
  /** File of allowed client public keys; without it every client is refused. */
  clientsFile?: string;
}

export interface BrokerAuth {
  /** The CURVE server options of the broker's sockets; undefined in plaintext. */
  server?: CurveServer;
  /** Re-reads the clients file; keeps the old list when the new one is unusable. Returns the keys now allowed. */
  reload(): number;
  /** Counts and logs the handshakes these sockets refuse before ZAP is asked (no CURVE, another broker's key). */
  watch(sockets: Socket[]): void;
  stop(): Promise<void>;
}

/** True for addresses only this machine reaches. */
export function isLoopback(bind: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(bind) || ['::1', '[::1]', 'localhost'].includes(bind);
}

/** A log line per key at most every 10 s, with how many were left out in between. */
function throttled(logger: Logger): (key: string, fields: Record<string, unknown>, msg: string) => void {
  const throttle = new LogThrottle(10_000);
  return (key, fields, msg) => {
    const suppressed = throttle.take(key);
    if (suppressed !== undefined) logger.warn({ ...fields, suppressed }, msg);
  };
}

/** Sets up what the broker's sockets are made with; refuses plaintext on an address others can reach unless `insecurePlaintext`. */
export async function startBrokerAuth(o: {
  bind: string; zapDomain: string; curve?: BrokerCurve; insecurePlaintext?: boolean; logger: Logger; counters: Counters;
}): Promise<BrokerAuth> {
  const { logger, counters, curve } = o;
  const log = throttled(logger);
  if (!curve) {
    if (!isLoopback(o.bind)) {
      if (!o.insecurePlaintext) throw errors.plaintextRefused(o.bind);
      logger.warn({ bind: o.bind }, 'INSECURE: the broker listens in plaintext on an address others can reach (--insecure-plaintext): anyone who reaches its ports can run commands on the workers and forge results. Set up CURVE keys (cloudroutes keys generate)');
    }
    return { reload: () => 0, watch: () => undefined, stop: async () => undefined };
  }
  let allowed = new Set<string>();
  const load = (): number => {
    if (!curve.clientsFile) {
      logger.warn('CURVE is on but CLOUDROUTES_CURVE_CLIENTS is not set: every client will be refused. Set it to a file of the clients\' public keys, one a line');
      return 0;
    }
    allowed = readAllowedClients(curve.clientsFile);
    if (allowed.size === 0) logger.warn({ file: curve.clientsFile }, 'the file of allowed client keys has none: every client will be refused');
    else logger.info({ file: curve.clientsFile, keys: allowed.size }, 'read the allowed client keys');
    return allowed.size;
  };
  load();
  const unregister = await registerZapDomain(o.zapDomain, (key, address) => {
    if (allowed.has(key.toString('hex'))) return true;
    counters.inc('auth_refused');
    log(address, { address, clientKey: z85Encode(key) }, 'refused a client whose CURVE key is not in the allowed clients file');
    return false;
  }, logger);
  const watching: Promise<void>[] = [];
  return {
    server: { ...curve.pair, zapDomain: o.zapDomain },
    reload() {
      try {
        return load();
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'kept the previous allowed client keys: the clients file could not be used');
        return allowed.size;
      }
    },
    watch(sockets) {
      for (const socket of sockets) {
        watching.push((async () => {
          for await (const e of socket.events) {
            if (e.type !== 'handshake:error:protocol' && e.type !== 'handshake:error:other') continue;
            counters.inc('auth_refused');
            log(`handshake ${e.address}`, { endpoint: e.address, err: e.error.message },
              'refused a connection that failed the CURVE handshake (a client without CURVE, or with another broker\'s public key)');
          }
        })().catch(() => undefined));
      }
    },
    async stop() {
      await unregister();
      await Promise.all(watching);
    },
  };
}

/** The broker's CURVE settings; undefined when it has no key pair. */
export function brokerCurve(s: CurveSettings): BrokerCurve | undefined {
  if (!s.pair) {
    if (s.clientsFile) throw errors.curveIncomplete('CLOUDROUTES_CURVE_CLIENTS', 'the broker has no key pair: set CLOUDROUTES_CURVE_SECRET_KEY_FILE to its key from "cloudroutes keys generate"');
    return undefined;
  }
  return { pair: s.pair, clientsFile: s.clientsFile };
}

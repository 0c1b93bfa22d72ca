/**
 * ZAP, ZeroMQ's authentication protocol: libzmq asks the socket bound to inproc://zeromq.zap.01 of its
 * context about every CURVE client's key. One such socket per process answers for every broker in it,
 * each broker under its own ZAP domain.
 */
import type { Logger } from 'pino';
import { Router } from 'zeromq';
import { supervise } from '../core/main-loop.js';
import { errors } from '../core/errors.js';

/** Whether a client key (32 raw bytes) connecting from `address` may use the sockets of a domain. */
export type ZapCheck = (clientKey: Buffer, address: string) => boolean;

const ENDPOINT = 'inproc://zeromq.zap.01';
const domains = new Map<string, ZapCheck>();
let handler: { router: Router; ready: Promise<void>; loop: Promise<void> } | undefined;

async function answer(router: Router): Promise<void> {
  for await (const frames of router) {
    const [id, , version, requestId, domain, address, , mechanism, key] = frames;
    const check = domains.get(domain?.toString() ?? '');
    let ok = false;
    try {
      ok = !!check && mechanism?.toString() === 'CURVE' && key?.length === 32 && check(Buffer.from(key), address?.toString() ?? '');
    } catch {
      ok = false;
    }
    // A request that cannot be answered (its connection already gone) is not worth stopping for.
    await router.send([id!, '', version ?? '1.0', requestId ?? '', ok ? '200' : '400', ok ? 'OK' : 'client key not allowed', '', '']).catch(() => undefined);
  }
}

/**
 * Answers ZAP requests of `domain` with `check` until the returned function is called. The answering loop is
 * supervised: one that ended would leave every new client's handshake waiting, so the process exits instead.
 */
export async function registerZapDomain(domain: string, check: ZapCheck, logger: Logger): Promise<() => Promise<void>> {
  if (domains.has(domain)) throw errors.zapDomainTaken(domain);
  domains.set(domain, check);
  if (!handler) {
    const router = new Router();
    const ready = router.bind(ENDPOINT);
    const answering = () => handler?.router === router;
    handler = { router, ready, loop: ready.then(() => supervise('broker', 'ZAP', answer(router), answering, logger)).catch(() => undefined) };
  }
  try {
    await handler.ready;
  } catch (err) {
    domains.delete(domain);
    handler = undefined;
    throw err;
  }
  return async () => {
    domains.delete(domain);
    if (domains.size > 0 || !handler) return;
    const { router, loop } = handler;
    handler = undefined;
    router.close();
    await loop;
  };
}

/** Free TCP ports on 127.0.0.1. */
import { createServer } from 'node:net';

function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** Any free port. */
export async function freePort(): Promise<number> {
  const p = await tryBind(0);
  if (!p) throw new Error('no free TCP port on 127.0.0.1');
  return p;
}

/**
 * A base port such that base..base+count-1 are all free, below the kernel's ephemeral range
 * (32768+) so outgoing check connections cannot take them meanwhile.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = (await tryBind(base + i)) === base + i;
    if (ok) return base;
  }
  throw new Error(`found no ${count} consecutive free ports between 20000 and 32000`);
}

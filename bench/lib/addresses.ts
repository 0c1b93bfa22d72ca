/** Spreads monitors over many loopback addresses (127.a.b.c), so fresh connections never compete for one 4-tuple space. */

/** The j-th loopback address of the pool: 127.1.0.1, 127.1.0.2, ... (the last octet skips 0 and 255). */
export function loopback(j: number): string {
  const c = 1 + (j % 254);
  const b = Math.floor(j / 254) % 256;
  const a = 1 + Math.floor(j / (254 * 256));
  return `127.${a}.${b}.${c}`;
}

/** The URL monitor `i` checks, given `count` addresses in the pool; a failing one asks for /fail, which the target answers 500. */
export function targetUrl(i: number, count: number, port: number, failing = false): string {
  return `http://${loopback(i % count)}:${port}/${failing ? 'fail' : ''}`;
}

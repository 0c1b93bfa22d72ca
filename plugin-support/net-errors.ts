/** Short, human reasons for network failures, used in check results and reaction logs. */

const TLS_CODE = /CERT|TLS|SSL|OSSL/;

/** A one-line reason for a failed connection or exchange with host:port. */
export function describeNetError(err: unknown, host: string, port: number): string {
  const e = err as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  // Happy-eyeballs connects (several addresses) fail with an AggregateError; the first attempt says why.
  const code = e?.code ?? e?.errors?.[0]?.code ?? '';
  const target = hostPort(host, port);
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${target}`;
    case 'ENOTFOUND':
    case 'ENODATA':
      return `DNS lookup failed: ${host} not found`;
    case 'EAI_AGAIN':
      return `DNS lookup failed: temporary failure resolving ${host}`;
    case 'ECONNRESET':
      return `connection reset by ${target}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${target} is unreachable (${code})`;
    case 'ETIMEDOUT':
      return `connection to ${target} timed out in the operating system (ETIMEDOUT)`;
    case 'UND_ERR_SOCKET':
      return `${target} closed the connection before a complete response`;
  }
  if (code.startsWith('HPE_')) return `invalid HTTP response from ${target}: ${e.message}`;
  if (TLS_CODE.test(code)) return `TLS error with ${target}: ${e.message} (${code})`;
  return `${code || e?.name || 'error'} with ${target}: ${e?.message ?? String(err)}`;
}

/** host:port, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Rounds milliseconds to 0.01 ms for results and metrics. */
export function ms(value: number): number {
  return Math.round(value * 100) / 100;
}

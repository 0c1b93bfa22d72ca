/** One HTTP/1.1 GET over a fresh connection through undici, cut at a deadline, with per-phase timings. */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Client, type buildConnector, type Dispatcher } from 'undici';
import { describeNetError, hostPort, ms } from '../../plugin-support/net-errors.js';

export interface ProbeOptions {
  url: URL;
  headers?: Record<string, string>;
  /** Bytes of body to read at most; the rest is cut off (the connection is closed). */
  maxBodyBytes: number;
  /** Keep the body bytes read (http-keyword); otherwise they are counted and dropped. */
  keepBody: boolean;
  /** Per-check limit in ms; the job's signal may end the probe earlier. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Request method (default GET). */
  method?: string;
  /** Request body (sent with the method given). */
  body?: string;
  /** false accepts any server certificate (self-signed, expired, other host); default true. */
  tlsVerify?: boolean;
  /** Follow up to MAX_REDIRECTS redirects, each over a fresh connection, `headers` sent to the URL's origin only; default false. */
  followRedirects?: boolean;
}

export interface ProbeResult {
  /** HTTP status, 0 when no response came. */
  statusCode: number;
  body: Buffer | undefined;
  truncated: boolean;
  /** Why the exchange failed (refused, DNS, TLS, timeout...); undefined when a response was read. */
  error: string | undefined;
  /** The request could not even be built from the data (e.g. an invalid header): the check could not run. */
  unusable: boolean;
  latencyMs: number;
  /** Phase durations in ms (dnsMs, connectMs, tlsMs, waitMs, transferMs) and bytes read. */
  metrics: Record<string, number>;
  /** The Location header of the (last) response, if any. */
  location?: string;
  /** Redirects followed (only with followRedirects). */
  redirects?: number;
  /** The URL of the last request (differs from the given one after redirects). */
  finalUrl?: string;
}

const USER_AGENT = 'CloudRoutes-monitor/0.1';
const TRUNCATED = new Error('body limit reached');
const TIMED_OUT = new Error('check deadline reached');
const DONE = Object.assign(new Error('probe complete'), { code: 'UND_ERR_INFO' });

/** Redirects followed at most when followRedirects is on. */
export const MAX_REDIRECTS = 5;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** Runs one probe, following redirects when asked; never rejects for network problems, they come back in `error`. */
export async function probe(opts: ProbeOptions): Promise<ProbeResult> {
  if (!opts.followRedirects) return probeOnce(opts);
  const started = performance.now();
  let current = opts;
  let res = await probeOnce(current);
  let hops = 0;
  while (!res.error && REDIRECT_CODES.has(res.statusCode) && res.location) {
    let next: URL;
    try {
      next = new URL(res.location, current.url);
    } catch {
      break;
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') break;
    if (hops === MAX_REDIRECTS) {
      res = { ...res, statusCode: 0, error: `more than ${MAX_REDIRECTS} redirects (the last to ${next.href})` };
      break;
    }
    hops++;
    // 303, and 301/302 after a POST, turn into a GET without a body, as browsers and curl do.
    const toGet = res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && current.method === 'POST');
    const left = opts.timeoutMs - (performance.now() - started);
    // The monitor's headers (credentials, stored encrypted for the URL's origin) go to that origin only, as fetch and curl
    // drop Authorization on a redirect to another origin; once dropped they stay dropped.
    const crossOrigin = next.origin !== opts.url.origin;
    current = { ...current, url: next, timeoutMs: Math.max(1, left), ...(toGet ? { method: 'GET', body: undefined } : {}), ...(crossOrigin ? { headers: undefined } : {}) };
    res = await probeOnce(current);
  }
  return { ...res, latencyMs: ms(performance.now() - started), redirects: hops, finalUrl: current.url.href };
}

function probeOnce(opts: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => new Probe(opts, resolve).start());
}

/**
 * One Client per probe, with a connect function that owns the socket: the connection is
 * never shared or reused (the probe closes it once the response is read, so the request need not say
 * `connection: close`, which would make undici build an error with a stack trace for every check), the TLS
 * handshake is always a full one (no session cache, so an expired certificate is seen),
 * and each socket's lookup/connect/secureConnect events time this probe's phases.
 * A shared Agent is no cheaper here: once each connection closes it drops the origin's
 * Pool, so it builds a Pool, a Client and a connector per check anyway (measured ~25% more CPU).
 */
class Probe implements Dispatcher.DispatchHandler {
  private readonly t0 = performance.now();
  private tLookup = 0;
  private tConnect = 0;
  private tSecure = 0;
  private tHeaders = 0;
  private statusCode = 0;
  private location: string | undefined;
  private bytes = 0;
  private chunks: Buffer[] | undefined;
  private truncated = false;
  private done = false;
  private socket: Socket | undefined;
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly tls: boolean;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly opts: ProbeOptions, private readonly resolve: (r: ProbeResult) => void) {
    this.tls = opts.url.protocol === 'https:';
    this.host = opts.url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(opts.url.port) || (this.tls ? 443 : 80);
    if (opts.keepBody) this.chunks = [];
  }

  start(): void {
    const { url, signal, timeoutMs } = this.opts;
    if (signal.aborted) return this.onDeadline();
    this.client = new Client(url.origin, { pipelining: 1, connect: this.connect });
    // Invalid request data (a bad header) is reported through onResponseError during this call.
    this.client.dispatch({ path: url.pathname + url.search, method: this.opts.method ?? 'GET', body: this.opts.body, headers: this.headers() }, this);
    if (this.done) return;
    signal.addEventListener('abort', this.onDeadline, { once: true });
    if (timeoutMs > 0) this.timer = setTimeout(this.onDeadline, timeoutMs);
  }

  private headers(): Record<string, string> {
    const given = this.opts.headers;
    if (!given) return { 'user-agent': USER_AGENT };
    for (const name in given) if (name.toLowerCase() === 'user-agent') return given;
    return { 'user-agent': USER_AGENT, ...given };
  }

  private readonly connect = (_o: buildConnector.Options, cb: buildConnector.Callback): Socket => {
    let pending: buildConnector.Callback | undefined = cb;
    const settle = (err: Error | null): void => {
      const callback = pending;
      pending = undefined;
      if (err) callback?.(err, null);
      else callback?.(null, socket);
    };
    const socket = this.tls
      ? tlsConnect({ host: this.host, port: this.port, servername: isIP(this.host) ? undefined : this.host, ALPNProtocols: ['http/1.1'], rejectUnauthorized: this.opts.tlsVerify !== false })
      : netConnect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once('lookup', () => (this.tLookup = performance.now()));
    socket.once('connect', () => {
      this.tConnect = performance.now();
      if (!this.tls) settle(null);
    });
    if (this.tls) {
      socket.once('secureConnect', () => {
        this.tSecure = performance.now();
        settle(null);
      });
    }
    socket.on('error', settle);
    return socket;
  };

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.tHeaders = performance.now();
    this.statusCode = statusCode;
    const location = headers.location;
    this.location = Array.isArray(location) ? location[0] : location;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const room = this.opts.maxBodyBytes - this.bytes;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.bytes += part.length;
    this.chunks?.push(part);
    if (chunk.length > room) {
      this.truncated = true;
      controller.abort(TRUNCATED);
    }
  }

  onResponseEnd(): void {
    // Closing our socket first spares undici's own close, which builds and formats a stack trace (~7% of a probe's CPU);
    // as the request is keep-alive, undici then has no reason to build its 'reset' error either (~4% more).
    this.socket?.destroy(DONE);
    this.finish(undefined);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (err === TRUNCATED) {
      // The abort alone leaves undici free to connect again for a keep-alive request: the probe's client ends here.
      this.client?.destroy(DONE, () => {});
      return this.finish(undefined);
    }
    if ((err as NodeJS.ErrnoException).code === 'UND_ERR_INVALID_ARG') return this.finish(`the request cannot be built: ${err.message}`, true);
    this.finish(describeNetError(err, this.host, this.port));
  }

  private readonly onDeadline = (): void => {
    if (this.done) return;
    const elapsed = Math.round(performance.now() - this.t0);
    this.finish(`timed out after ${elapsed} ms ${this.phase()}`);
    this.socket?.destroy(TIMED_OUT);
    this.client?.destroy(TIMED_OUT, () => {});
  };

  private phase(): string {
    const target = hostPort(this.host, this.port);
    if (!this.tConnect) return !this.tLookup && !isIP(this.host) ? `resolving ${this.host}` : `connecting to ${target}`;
    if (this.tls && !this.tSecure) return `in the TLS handshake with ${target}`;
    if (!this.tHeaders) return `waiting for the response from ${target}`;
    return `reading the body from ${target}`;
  }

  private finish(error: string | undefined, unusable = false): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.opts.signal.removeEventListener('abort', this.onDeadline);
    const end = performance.now();
    this.resolve({
      statusCode: error ? 0 : this.statusCode,
      body: this.chunks && !error ? Buffer.concat(this.chunks, this.bytes) : undefined,
      truncated: this.truncated,
      error,
      unusable,
      latencyMs: ms(end - this.t0),
      metrics: this.metrics(end),
      location: this.location,
    });
  }

  private metrics(end: number): Record<string, number> {
    const m: Record<string, number> = { bytes: this.bytes };
    const connStart = this.tLookup || this.t0;
    if (this.tLookup) m.dnsMs = ms(this.tLookup - this.t0);
    if (this.tConnect) m.connectMs = ms(this.tConnect - connStart);
    if (this.tSecure) m.tlsMs = ms(this.tSecure - this.tConnect);
    if (this.tHeaders) {
      m.waitMs = ms(this.tHeaders - (this.tSecure || this.tConnect || this.t0));
      m.transferMs = ms(end - this.tHeaders);
    }
    return m;
  }
}

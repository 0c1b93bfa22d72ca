/** A tiny HTTP server for a process's own /metrics (`--metrics-port`), on node:http. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { errors } from './errors.js';
import { processFaultMetrics } from './process-faults.js';

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/** Serves GET /metrics from `registry` on host:port (0: a free port); anything else is 404. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(errors.badSetting('--metrics-port', String(port), `cannot listen on ${host}:${port} (${err.code ?? err.message}); choose a free port for each process`)),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export interface MetricsFlags {
  /** Port for /metrics (else env CLOUDROUTES_METRICS_PORT); neither: no metrics server. */
  metricsPort?: number;
  metricsHost?: string;
}

/** The port of `--metrics-port` or CLOUDROUTES_METRICS_PORT: undefined when unset, 0 for a free one. */
export function parseMetricsPort(value: string | undefined, name = '--metrics-port'): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw errors.badSetting(name, value, 'expected a port number (0 for a free one)');
  return n;
}

interface Running {
  stop(): Promise<void>;
}

/**
 * With a metrics port, listens on it first (a port in use stops the process before the component
 * binds, reads or writes anything), then starts the component with a registry of its own (and the
 * default process metrics); stopping stops both. Without a port the component gets no registry.
 */
export async function withMetrics(
  proc: string, flags: MetricsFlags, logger: Logger, start: (registry: Registry | undefined) => Promise<Running>, env: NodeJS.ProcessEnv = process.env,
): Promise<Running> {
  const port = flags.metricsPort ?? parseMetricsPort(env.CLOUDROUTES_METRICS_PORT, 'CLOUDROUTES_METRICS_PORT');
  if (port === undefined) return start(undefined);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  processFaultMetrics(registry);
  const server = await serveMetrics(registry, flags.metricsHost || '127.0.0.1', port);
  let component: Running;
  try {
    component = await start(registry);
  } catch (err) {
    await server.close();
    throw err;
  }
  logger.info({ url: server.url }, `${proc} metrics listening`);
  return {
    async stop() {
      await component.stop();
      await server.close();
    },
  };
}

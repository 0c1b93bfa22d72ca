/** Check: a TCP connection to host:port can be established. */
import { connect, isIP } from 'node:net';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../../plugin-support/fields.js';
import { describeNetError, hostPort, ms } from '../../plugin-support/net-errors.js';
import { target } from '../_shared/service.js';

export const meta: PluginMeta = {
  title: 'TCP connect',
  description:
    'Opens a TCP connection to host:port and closes it as soon as it is established; healthy when the connection ' +
    'succeeds, with the connect time (DNS lookup included) as latency. A refused connection, a DNS failure or no answer ' +
    'before the time limit fails the check with the reason. Nothing is sent on the connection. Metrics: dnsMs, connectMs.',
  fields: {
    type: 'object',
    properties: {
      host: { type: 'string', description: 'Host name or IP address to connect to.', minLength: 1 },
      port: { type: 'integer', description: 'TCP port, 1-65535.', minimum: 1, maximum: 65535 },
      timeoutMs: timeoutField,
    },
    required: ['host', 'port'],
    additionalProperties: false,
  },
};

/** Connects to data.host:data.port; healthy when the connection is established. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const at = target(job);
  if ('status' in at) return at;
  const { host, port } = at;
  return new Promise((resolve) => {
    const t0 = performance.now();
    let tLookup = 0;
    let done = false;
    const limit = timeLimit(job);
    const finish = (result: CheckResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onDeadline);
      socket.destroy();
      const end = performance.now();
      const metrics: Record<string, number> = {};
      if (tLookup) metrics.dnsMs = ms(tLookup - t0);
      if (result.status === 'healthy') metrics.connectMs = ms(end - (tLookup || t0));
      resolve({ ...result, latencyMs: ms(end - t0), metrics });
    };
    const onDeadline = (): void => {
      const phase = !tLookup && !isIP(host) ? `resolving ${host}` : `connecting to ${hostPort(host, port)}`;
      finish({ status: 'failed', message: `timed out after ${Math.round(performance.now() - t0)} ms ${phase}` });
    };
    const socket = connect({ host, port });
    socket.once('lookup', () => (tLookup = performance.now()));
    socket.once('connect', () => finish({ status: 'healthy', message: `connected to ${hostPort(host, port)}` }));
    socket.on('error', (err) => finish({ status: 'failed', message: describeNetError(err, host, port) }));
    const timer = limit > 0 ? setTimeout(onDeadline, limit) : undefined;
    if (ctx.signal.aborted) onDeadline();
    else ctx.signal.addEventListener('abort', onDeadline, { once: true });
  });
}

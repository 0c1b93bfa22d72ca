/** Check: an AMQP 0-9-1 broker (RabbitMQ) accepts a connection, and optionally a queue exists and is not too deep. */
import type { NetConnectOpts } from 'node:net';
import amqp, { type ChannelModel, type Options, type SocketOptions } from 'amqplib';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeoutField } from '../../plugin-support/fields.js';
import { hostPort } from '../../plugin-support/net-errors.js';
import { Deadline, failure, hostField, passwordField, portField, tlsField, unusable } from '../_shared/service.js';

export const meta: PluginMeta = {
  title: 'AMQP broker and queue depth',
  description:
    'Opens one AMQP 0-9-1 connection with amqplib (from url, or from host, port, user, password and vhost) and is ' +
    'healthy once the broker completes the handshake. With queue set it also declares that queue passively (it is ' +
    'never created) and fails when it does not exist or, with maxMessages set, when it holds more ready messages than ' +
    'that, naming the count and the limit. A refused connection, refused credentials, an unknown vhost or no answer ' +
    'before the time limit fails the check with the reason. The connection is always closed. Metrics: connectMs, and ' +
    'messages and consumers of the queue.',
  fields: {
    type: 'object',
    properties: {
      url: {
        type: 'string',
        description: 'Broker URL amqp://user:password@host:port/vhost (or amqps://); replaces host, port, user, password and vhost. Stored encrypted.',
        pattern: '^amqps?://[^\\s]+$',
        secret: true,
      },
      host: hostField,
      port: portField(5672),
      user: { type: 'string', description: 'User name when no url is given (default guest).', minLength: 1 },
      password: { ...passwordField, description: 'Password when no url is given (default guest); stored encrypted.' },
      vhost: { type: 'string', description: 'Virtual host when no url is given (default "/").', minLength: 1 },
      tls: tlsField,
      queue: { type: 'string', description: 'Queue that must exist; checked passively, never created.', minLength: 1 },
      maxMessages: { type: 'integer', description: 'Most ready messages the queue may hold while healthy (needs queue).', minimum: 0 },
      timeoutMs: timeoutField,
    },
    additionalProperties: false,
  },
};

interface Data {
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  vhost?: string;
  tls?: boolean;
  queue?: string;
  maxMessages?: number;
}

/** Connects to the broker; healthy after the handshake and, with data.queue, when it exists within data.maxMessages. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const data = job.data as Data;
  const address = brokerAddress(data);
  if (!address) return unusable(job, 'data needs url (amqp:// or amqps://) or host, and port must be an integer 1-65535');
  if (data.maxMessages !== undefined && !data.queue) return unusable(job, 'data.maxMessages needs data.queue');
  const { host, port, vhost, connect } = address;
  const where = hostPort(host, port);
  const deadline = new Deadline(job, ctx);
  let phase = `connecting to ${where}`;
  // amqplib hands these options to net/tls.connect, so the deadline's signal destroys its socket even before connect() resolves.
  const socketOptions: SocketOptions & Pick<NetConnectOpts, 'signal'> = { signal: deadline.signal, servername: host };
  const pending = amqp.connect(connect, socketOptions);
  let conn: ChannelModel | undefined;
  try {
    conn = await deadline.race(pending);
    conn.on('error', () => {});
    const connectMs = deadline.elapsed();
    if (!data.queue) return { status: 'healthy', message: `connected to ${where} (vhost "${vhost}")`, latencyMs: connectMs, metrics: { connectMs } };
    phase = `checking queue "${data.queue}" on ${where}`;
    const channel = await deadline.race(conn.createChannel());
    channel.on('error', () => {});
    const q = await deadline.race(channel.checkQueue(data.queue));
    const latencyMs = deadline.elapsed();
    const metrics = { connectMs, messages: q.messageCount, consumers: q.consumerCount };
    const depth = `queue "${data.queue}" on ${where} has ${q.messageCount} ready message${q.messageCount === 1 ? '' : 's'}`;
    if (data.maxMessages !== undefined && q.messageCount > data.maxMessages) {
      return { status: 'failed', message: `${depth}, above the maximum ${data.maxMessages}`, latencyMs, metrics };
    }
    return { status: 'healthy', message: `${depth} and ${q.consumerCount} consumer${q.consumerCount === 1 ? '' : 's'}`, latencyMs, metrics };
  } catch (err) {
    if ((err as { code?: unknown }).code === 404 && data.queue) {
      return { status: 'failed', message: `queue "${data.queue}" does not exist on ${where} (vhost "${vhost}")`, latencyMs: deadline.elapsed() };
    }
    if (/^Expected ConnectionOpenOk/.test((err as Error).message)) {
      return { status: 'failed', message: `${where} refused to open vhost "${vhost}" (it does not exist or the user may not use it)`, latencyMs: deadline.elapsed() };
    }
    return failure(err, phase, host, port, deadline);
  } finally {
    deadline.clear();
    if (conn) close(conn);
    // A connection that completes after the deadline is closed as soon as it does.
    else pending.then(close, () => {});
  }
}

/** Closes politely, and drops the socket if the broker does not confirm within a second. */
function close(conn: ChannelModel): void {
  conn.on('error', () => {});
  const stream = (conn.connection as unknown as { stream?: { destroy(): void } }).stream;
  const timer = setTimeout(() => stream?.destroy(), 1000);
  timer.unref();
  conn.close().then(
    () => clearTimeout(timer),
    () => stream?.destroy(),
  );
}

/** Where to connect and with what: data.url as given, or an options object from the separate fields. */
function brokerAddress(data: Data): { host: string; port: number; vhost: string; connect: string | Options.Connect } | undefined {
  if (typeof data.url === 'string') {
    let url: URL;
    try {
      url = new URL(data.url);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') return undefined;
    const port = Number(url.port) || (url.protocol === 'amqps:' ? 5671 : 5672);
    const vhost = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/';
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port, vhost, connect: data.url };
  }
  const port = data.port ?? (data.tls ? 5671 : 5672);
  if (typeof data.host !== 'string' || !data.host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const vhost = data.vhost ?? '/';
  const connect: Options.Connect = {
    protocol: data.tls ? 'amqps' : 'amqp',
    hostname: data.host,
    port,
    username: data.user ?? 'guest',
    password: data.password ?? 'guest',
    vhost,
    heartbeat: 0,
  };
  return { host: data.host, port, vhost, connect };
}

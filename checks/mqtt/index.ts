/** Check: an MQTT broker accepts a connection (CONNACK with success). */
import mqtt from 'mqtt';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeoutField } from '../../plugin-support/fields.js';
import { Deadline, failure, hostField, passwordField, portField, target, tlsField } from '../_shared/service.js';

export const meta: PluginMeta = {
  title: 'MQTT broker connect',
  description:
    'Connects to an MQTT broker with the mqtt client (one connection, clean session, never reconnected) and is ' +
    'healthy when the broker answers CONNECT with a successful CONNACK; nothing is published or subscribed. A ' +
    'refused TCP connection, a CONNACK that refuses the client (bad user name or password, not authorized, client ' +
    'id rejected), a connection closed before CONNACK or no CONNACK before the time limit fails the check with the ' +
    'reason. The connection is always closed. Metrics: connackMs (TCP connect and CONNACK).',
  fields: {
    type: 'object',
    properties: {
      host: hostField,
      port: portField(1883),
      username: { type: 'string', description: 'User name to present in CONNECT; leave out for an anonymous connect.', minLength: 1 },
      password: passwordField,
      clientId: {
        type: 'string',
        description: 'Client identifier (default "cloudroutes-" and random characters); a broker drops an older session with the same id.',
        minLength: 1,
      },
      tls: tlsField,
      protocolVersion: { type: 'integer', description: 'MQTT protocol: 3 (3.1), 4 (3.1.1, default) or 5.', enum: [3, 4, 5] },
      timeoutMs: timeoutField,
    },
    required: ['host'],
    additionalProperties: false,
  },
};

interface Data {
  username?: string;
  password?: string;
  clientId?: string;
  tls?: boolean;
  protocolVersion?: 3 | 4 | 5;
}

/** Sends CONNECT to data.host:data.port; healthy on a successful CONNACK. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const at = target(job, 1883);
  if ('status' in at) return at;
  const data = job.data as Data;
  const deadline = new Deadline(job, ctx);
  const client = mqtt.connect({
    host: at.host,
    port: at.port,
    protocol: data.tls ? 'mqtts' : 'mqtt',
    servername: data.tls ? at.host : undefined,
    username: data.username,
    password: data.password,
    clientId: data.clientId ?? `cloudroutes-${Math.random().toString(36).slice(2, 12)}`,
    protocolVersion: data.protocolVersion ?? 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: deadline.limitMs || 30_000,
    manualConnect: true,
  });
  let phase = `connecting to ${at.where}`;
  const connack = new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.on('error', reject);
    client.once('close', () => reject(new Error(`${at.where} closed the connection before CONNACK`)));
  });
  try {
    client.connect();
    client.stream?.once('connect', () => (phase = `waiting for CONNACK from ${at.where}`));
    await deadline.race(connack);
    const latencyMs = deadline.elapsed();
    return { status: 'healthy', message: `CONNACK from ${at.where}`, latencyMs, metrics: { connackMs: latencyMs } };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') {
      const reason = (err as Error).message.replace(/^Connection refused: /, '');
      return { status: 'failed', message: `${at.where} refused the client in CONNACK: ${reason} (code ${code})`, latencyMs: deadline.elapsed() };
    }
    return failure(err, phase, at.host, at.port, deadline);
  } finally {
    deadline.clear();
    // A connected client says DISCONNECT, so the broker does not log an unexpected loss; any other is dropped at once.
    client.end(!client.connected);
  }
}

/** Guards for tests against the services the machine runs (Redis, PostgreSQL, MariaDB, Mosquitto, RabbitMQ). */
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CheckResult } from '../../src/core/types.js';
import { closedPort, until, type Peer } from '../helpers/peers.js';

/** Resolves when 127.0.0.1:port accepts a connection; otherwise rejects saying which service is missing and how CI provides it. */
export function requireService(service: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', (err) =>
      reject(new Error(
        `${service} is not running on 127.0.0.1:${port} (${(err as NodeJS.ErrnoException).code}): these tests use the machine's ${service}, ` +
          'which the CI machine starts before each run (it is not installed by .ci/run); start it, e.g. "service <name> start", and run the tests again',
      )),
    );
  });
}

type Run = (data: Record<string, unknown>, ms?: number) => Promise<CheckResult>;

/**
 * Registers the failure tests every service check shares: a closed port is refused; a peer that accepts and never
 * answers is cut at the job's deadline (and by data.timeoutMs before it) with its connection closed. `phase` is what
 * the timeout message says the check was doing, with TARGET for the peer's host:port.
 */
export function connectionFailureTests(run: Run, data: Record<string, unknown>, phase: string, peer: () => Peer): void {
  const timedOut = (port: number) => new RegExp(`^timed out after \\d+ ms ${phase.replace('TARGET', `127\\.0\\.0\\.1:${port}`)}$`);

  test('a closed port fails with connection refused', async () => {
    const port = await closedPort();
    const r = await run({ ...data, port });
    assert.is(r.status, 'failed');
    assert.is(r.message, `connection refused by 127.0.0.1:${port}`);
  });

  test('a server that accepts and never answers is cut at the deadline, and the connection closed', async () => {
    const started = Date.now();
    const r = await run({ ...data, port: peer().port }, 300);
    assert.is(r.status, 'failed');
    assert.match(r.message!, timedOut(peer().port));
    assert.ok(Date.now() - started < 1500);
    await until(() => peer().open.size === 0);
  });

  test('a job signal that ends at once fails the check at once, leaving nothing open', async () => {
    const r = await run({ ...data, port: peer().port }, 0);
    assert.is(r.status, 'failed');
    assert.match(r.message!, /^timed out after \d+ ms /);
    await until(() => peer().open.size === 0);
  });

  test('data.timeoutMs cuts the check before the job deadline', async () => {
    const started = Date.now();
    const r = await run({ ...data, port: peer().port, timeoutMs: 150 }, 5000);
    assert.is(r.status, 'failed');
    assert.match(r.message!, timedOut(peer().port));
    assert.ok(Date.now() - started < 1000);
  });
}

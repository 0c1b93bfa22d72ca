/** Guards for tests against the services the machine runs (Redis, PostgreSQL, MariaDB, Mosquitto, RabbitMQ). */
import { connect } from 'node:net';

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

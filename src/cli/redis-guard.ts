/**
 * Stops the redis-server of `cloudroutes dev` when dev ends, even by SIGKILL, which no handler of dev sees. Dev writes
 * one line, {"port", "password"}, to this process's stdin and keeps the pipe open: it closes only when dev is gone.
 * Then SHUTDOWN goes to 127.0.0.1:port with the password, so a server on that port that is not dev's refuses it.
 */
import { connect } from 'node:net';

const GIVE_UP_MS = 5000;

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const command = (...args: string[]) => `*${args.length}\r\n${args.map(bulk).join('')}`;

function shutdown(port: number, password: string): void {
  setTimeout(() => process.exit(1), GIVE_UP_MS).unref();
  const socket = connect(port, '127.0.0.1', () => socket.write(command('AUTH', password) + command('SHUTDOWN')));
  socket.on('data', (reply) => {
    // SHUTDOWN answers only when it fails; a refused AUTH means the port is not dev's server.
    const text = reply.toString();
    if (!text.includes('-')) return;
    console.error(`redis guard: redis-server on port ${port} did not stop: ${text.trim().replace(/\r\n/g, '; ')}`);
    socket.destroy();
  });
  socket.on('error', () => undefined); // already stopped, by dev itself
  socket.on('close', () => process.exit(0));
}

// Ctrl-C is for dev, which stops redis-server itself; this process waits for dev to end either way.
process.on('SIGINT', () => undefined);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  try {
    const { port, password } = JSON.parse(input.split('\n')[0]!) as { port: number; password: string };
    shutdown(port, password);
  } catch {
    process.exit(0); // dev ended before it said which server: nothing to stop
  }
});

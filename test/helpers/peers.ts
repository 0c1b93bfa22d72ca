/** Real network peers for plug-in tests: HTTP servers, hanging servers, closed ports, a port whose connects hang. */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { CheckContext, CheckJob } from '../../src/core/types.js';

export interface Peer {
  port: number;
  url: string;
  /** Connections the peer accepted so far. */
  connections: number;
  /** Connections still open on the peer's side. */
  open: Set<Socket>;
  close(): Promise<void>;
}

function track(server: Server | ReturnType<typeof createNetServer>, scheme: string): Promise<Peer> {
  const peer = { port: 0, url: '', connections: 0, open: new Set<Socket>() } as Peer;
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', (socket: Socket) => {
    peer.connections++;
    peer.open.add(socket);
    socket.on('close', () => peer.open.delete(socket));
  });
  peer.close = () => {
    for (const s of peer.open) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      peer.port = (server.address() as { port: number }).port;
      peer.url = `${scheme}://127.0.0.1:${peer.port}`;
      resolve(peer);
    });
  });
}

/** An HTTP server on 127.0.0.1 with a free port. */
export function httpPeer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Peer> {
  return track(createHttpServer(handler), 'http');
}

/** An HTTPS server with a fresh self-signed certificate (made with openssl). */
export function selfSignedHttpsPeer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'cr-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  return track(createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler), 'https');
}

/** A TCP server that accepts connections, reads and drops what it gets, and never answers. */
export function silentPeer(): Promise<Peer> {
  return track(createNetServer((socket) => socket.resume()), 'http');
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const peer = await silentPeer();
  await peer.close();
  return peer.port;
}

export interface Blackhole {
  port: number;
  close(): void;
}

/**
 * A port whose TCP connects hang: a child process listens with a backlog of 1 and never
 * accepts (its event loop is blocked), and filler connections fill the accept queue, so
 * the kernel drops further SYNs.
 */
export async function blackhole(): Promise<Blackhole> {
  const code =
    "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{" +
    "process.stdout.write(s.address().port+'\\n');setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0),20)})";
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  await new Promise((r) => setTimeout(r, 100));
  const fillers = Array.from({ length: 6 }, () => connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return {
    port,
    close: () => {
      fillers.forEach((s) => s.destroy());
      child.kill('SIGKILL');
    },
  };
}

export const silentLogger = pino({ level: 'silent' });

/** A check job for `ctype` with `data`. */
export function job(ctype: string, data: Record<string, unknown>, timeoutMs = 5000): CheckJob {
  return { monitorId: 'mon-1', name: `test ${ctype}`, ctype, data, timeoutMs, zone: 'test' };
}

/** A check context whose signal aborts after `ms`. */
export function ctx(ms = 5000): CheckContext {
  return { signal: AbortSignal.timeout(ms), logger: silentLogger };
}

/** Resolves once `cond` is true (polled), or rejects after `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

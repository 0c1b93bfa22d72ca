/** Pooled ssh2 connections, one per target (host, port, user, credentials), closed after a minute idle. */
import { createHash } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { knownHosts } from '../src/core/ssh-known-hosts.js';
import { describeNetError, hostPort } from './net-errors.js';
import type { SshTarget } from './ssh-host.js';
import { errors, type SshError } from '../src/core/errors.js';

// The machine could not be reached or logged in to: CR_SSH of the catalogue, made by errors.ssh(kind, message).
export { SshError, type SshFailure } from '../src/core/errors.js';

/** The SHA256 fingerprint of a raw public key blob, as ssh-keygen prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Why a server's key that differs from the one recorded on first use is refused, and what to do, as OpenSSH says it. */
function changedKeyMessage(where: string, met: string, recorded: string, store: string, forget: string): string {
  return `the SSH host key of ${where} has changed: it is now ${met}, but ${recorded} was recorded on first use (in ${store}); ` +
    'the machine was reinstalled or replaced, or someone is in between. If the change is expected, set data.ssh.hostKey to ' +
    `${met}, or forget the recorded key (${forget}) so the next connection records the new one`;
}

/** Idle connections are closed after this long. */
export const IDLE_MS = 60_000;
/** Channels open at once on one connection (OpenSSH allows 10 sessions; two are kept for kill commands). */
const MAX_CHANNELS = 8;

/** One SSH connection shared by the checks of one target; at most MAX_CHANNELS commands at once. */
export class Connection {
  readonly client = new Client();
  readonly sock: Socket;
  readonly ready: Promise<void>;
  dead = false;
  used = false;
  cores?: number;
  private open = 0;
  private queue: (() => void)[] = [];
  private idle: NodeJS.Timeout | undefined;

  constructor(readonly id: string, readonly target: SshTarget, readyMs: number, private readonly onDead: (c: Connection) => void) {
    const t = target;
    const where = hostPort(t.host, t.port);
    let seen: string | undefined;
    // Why a key without data.ssh.hostKey was refused: it differs from the one recorded on first use, or the record could not be read.
    let refusal: SshError | undefined;
    this.sock = tcpConnect({ host: t.host, port: t.port });
    const config: ConnectConfig = {
      sock: this.sock,
      username: t.user,
      readyTimeout: readyMs,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        seen = fingerprintOf(key);
        if (t.hostKey) return verify(seen === t.hostKey);
        const store = knownHosts();
        const met = seen;
        store.remember(where, met).then(({ recorded }) => {
          if (recorded !== met) refusal = errors.ssh('host-key', changedKeyMessage(where, met, recorded, store.where, store.forgetHint(where)));
          verify(recorded === met);
        }, (err: Error) => {
          refusal = errors.ssh('lost', `cannot check the SSH host key of ${where} against the keys recorded in ${store.where}: ${err.message}`);
          verify(false);
        });
      },
      ...(t.key ? { privateKey: t.key, passphrase: t.passphrase, authHandler: ['publickey'] } : { password: t.password, authHandler: ['password'] }),
    };
    this.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: SshError) => {
        this.drop();
        if (!settled) reject(err);
        settled = true;
      };
      this.client.once('ready', () => {
        settled = true;
        // Whoever asked for it may have given up meanwhile: nothing would ever take() and give() it.
        if (this.open === 0) this.rest();
        resolve();
      });
      this.client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (settled) return this.drop();
        if (err.level === 'client-authentication') {
          fail(errors.ssh('auth', `SSH authentication as ${t.user}@${where} was rejected: check data.ssh.${t.key ? 'key' : 'password'}`));
        } else if (/Host denied/.test(err.message) && refusal) {
          fail(refusal);
        } else if (/Host denied/.test(err.message)) {
          fail(errors.ssh('host-key', `the SSH host key of ${where} is ${seen}, not data.ssh.hostKey ${t.hostKey}: the machine was replaced or someone is in between`));
        } else if (err.level === 'client-timeout') {
          fail(errors.ssh('timeout', `timed out after ${readyMs} ms waiting for the SSH handshake with ${where}`));
        } else if (err.level === 'client-socket' && err.code === 'ECONNREFUSED') {
          fail(errors.ssh('refused', `connection refused by ${where}: no SSH server listens there`));
        } else if (err.level === 'client-socket') {
          fail(errors.ssh('network', `SSH to ${where}: ${describeNetError(err, t.host, t.port)}`));
        } else {
          fail(errors.ssh('lost', `SSH to ${where} failed: ${err.message}`));
        }
      });
      this.client.on('close', () => fail(errors.ssh('lost', `${where} closed the connection during the SSH handshake`)));
      try {
        this.client.connect(config);
      } catch (err) {
        // ssh2 parses the key before connecting: a bad key or passphrase throws here.
        fail(errors.ssh('key', `data.ssh.key cannot be used: ${(err as Error).message}${t.passphrase ? ' (check data.ssh.passphrase)' : ''}`));
      }
    });
    this.ready.catch(() => undefined);
  }

  /** Waits for a free channel slot; keeps the process alive while any is taken. */
  async take(): Promise<void> {
    clearTimeout(this.idle);
    this.idle = undefined;
    this.sock.ref();
    if (this.open >= MAX_CHANNELS) await new Promise<void>((r) => this.queue.push(r));
    this.open++;
  }

  /** Frees a slot; when none is taken the connection no longer holds the process and closes after IDLE_MS. */
  give(): void {
    this.open--;
    this.used = true;
    const next = this.queue.shift();
    if (next) return next();
    if (this.open > 0 || this.dead) return;
    this.rest();
  }

  /** Lets the process exit despite the connection and closes it after IDLE_MS unless a channel is taken meanwhile. */
  private rest(): void {
    clearTimeout(this.idle);
    this.sock.unref();
    this.idle = setTimeout(() => this.drop(), IDLE_MS).unref();
  }

  /**
   * Ends the command on `ch` that its check gave up on: KILL its process group `pgid` (when known) and close the channel, keeping a slot taken until the
   * server confirms. A server that does not confirm within `graceMs` is taken for dead and the connection dropped.
   */
  abandon(ch: ClientChannel, pgid: number | undefined, graceMs = 1000): void {
    if (this.dead) return;
    this.open++;
    const grace = setTimeout(() => this.drop(), graceMs);
    ch.once('close', () => {
      clearTimeout(grace);
      this.give();
    });
    // OpenSSH refuses "signal" requests in many setups (root logins among them): kill by a command instead.
    if (pgid) this.side(`kill -KILL -- -${pgid}`);
    ch.close();
  }

  /** Runs `command` on its own channel, ignoring its output and failure. */
  side(command: string): void {
    void this.exec(command).then((c) => c.resume(), () => undefined);
  }

  /** Closes the connection and forgets it. */
  drop(): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idle);
    this.onDead(this);
    this.client.end();
    this.sock.destroy();
  }

  /** Opens an exec channel for `command`. */
  exec(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(this.lost());
      this.client.exec(command, (err, channel) => (err ? reject(this.dead ? this.lost() : err) : resolve(channel)));
    });
  }

  lost(): SshError {
    return errors.ssh('lost', `the SSH connection to ${hostPort(this.target.host, this.target.port)} was lost`);
  }
}

const pool = new Map<string, Connection>();

function poolKey(t: SshTarget): string {
  return createHash('sha256').update(JSON.stringify([t.host, t.port, t.user, t.key, t.passphrase, t.password, t.hostKey])).digest('hex');
}

/** The pooled connection to `target`, opened (with `readyMs` for the handshake) when there is none or it died. */
export function pooledConnection(target: SshTarget, readyMs: number): Connection {
  const id = poolKey(target);
  let conn = pool.get(id);
  if (!conn || conn.dead) {
    conn = new Connection(id, target, readyMs, (c) => pool.get(c.id) === c && pool.delete(c.id));
    // A key that cannot be parsed fails inside the constructor: nothing to keep.
    if (!conn.dead) pool.set(id, conn);
  }
  return conn;
}

/** The pooled connection to `target`, if there is one. */
export function existingConnection(target: SshTarget): Connection | undefined {
  return pool.get(poolKey(target));
}

/** Closes every pooled connection (for tests and shutdown). */
export function closeSshConnections(): void {
  for (const c of [...pool.values()]) c.drop();
}

/** Number of pooled connections. */
export function sshConnectionCount(): number {
  return pool.size;
}

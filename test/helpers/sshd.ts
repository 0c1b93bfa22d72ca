/** A real OpenSSH server on 127.0.0.1 for one test file: its own host key, config and authorized client keys in a temp dir. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';

export interface KeyPair {
  /** The private key, PEM / OpenSSH text. */
  private: string;
  public: string;
}

/** Makes a key pair with ssh-keygen in `dir`. */
export function keygen(dir: string, name: string, type: 'ed25519' | 'rsa', passphrase = ''): KeyPair {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', name, '-f', file], { stdio: 'ignore' });
  return { private: readFileSync(file, 'utf8'), public: readFileSync(`${file}.pub`, 'utf8') };
}

/** The key's SHA256 fingerprint as `ssh-keygen -lf` prints it ("SHA256:..."). */
export function fingerprint(publicKeyFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', publicKeyFile], { encoding: 'utf8' }).split(' ')[1]!;
}

export class Sshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'cr-sshd-'));
  port = 0;
  /** What sshd wrote to stderr (-e), over every start. */
  log = '';
  /** The server's host key fingerprint, "SHA256:...". */
  hostKey = '';
  /** An ed25519 client key that may log in. */
  readonly client: KeyPair;
  /** An RSA client key with a passphrase that may log in. */
  readonly rsaClient: KeyPair;
  readonly rsaPassphrase = 'correct horse battery staple';
  /** A key pair that is not authorized. */
  readonly stranger: KeyPair;
  private proc: ChildProcess | undefined;

  constructor() {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'host_key')], { stdio: 'ignore' });
    this.hostKey = fingerprint(join(this.dir, 'host_key.pub'));
    this.client = keygen(this.dir, 'client', 'ed25519');
    this.rsaClient = keygen(this.dir, 'rsa_client', 'rsa', this.rsaPassphrase);
    this.stranger = keygen(this.dir, 'stranger', 'ed25519');
    writeFileSync(join(this.dir, 'authorized_keys'), this.client.public + this.rsaClient.public, { mode: 0o600 });
  }

  /** Starts sshd (again, on the same port after a stop) and waits until the port accepts. */
  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    // Privilege separation directory; sshd refuses to start without it.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const config = join(this.dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `HostKey ${join(this.dir, 'host_key')}`,
        'ListenAddress 127.0.0.1',
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        'UsePAM no',
        'StrictModes no',
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PermitRootLogin yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'LogLevel VERBOSE',
        'MaxStartups 100',
        '',
      ].join('\n'),
    );
    this.proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config, '-p', String(this.port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (c: Buffer) => (this.log += c));
    const proc = this.proc;
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}: ${this.log}`);
      if (await accepts(this.port)) return this;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`sshd did not listen on ${this.port}: ${this.log}`);
  }

  /** The listening sshd's pid. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Connections sshd accepted so far, counted in its log. */
  connections(): number {
    return this.log.match(/Connection from 127\.0\.0\.1 port \d+/g)?.length ?? 0;
  }

  /** Stops the listener and every session it started (they share its process group only by name, so kill by parent). */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const sessions = childrenOf(proc.pid!);
    proc.kill('SIGTERM');
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
  }

  /** Restarts sshd on the same port with a new host key, as a reinstalled machine (or a man in the middle) would answer. */
  async newHostKey(): Promise<void> {
    await this.stop();
    rmSync(join(this.dir, 'host_key'), { force: true });
    rmSync(join(this.dir, 'host_key.pub'), { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'host_key')], { stdio: 'ignore' });
    this.hostKey = fingerprint(join(this.dir, 'host_key.pub'));
    await this.start();
  }

  /** Stops sshd and removes its directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Pids whose parent is `pid` (sshd's per-connection processes). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(p));
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}

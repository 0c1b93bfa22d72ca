/** A Host over SSH (ssh2): pooled connections per target, one remote command per question. */
import type { ClientChannel } from 'ssh2';
import { exactlyOneOf } from '../src/core/schema.js';
import type { FieldSchema } from '../src/core/types.js';
import type { Command, DiskSpace, Host, ProcessInfo, RunOptions, RunResult } from './host.js';
import { Tail } from './host.js';
import { hostPort } from './net-errors.js';
import { existingConnection, pooledConnection, SshError, type Connection } from './ssh-connection.js';
import { errors } from '../src/core/errors.js';

/** Most bytes a question (cat, stat, ...) may answer with. */
const MAX_OUTPUT = 16 * 1024 * 1024;

/** data.ssh: where and as whom to log in. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  key?: string;
  passphrase?: string;
  password?: string;
  hostKey?: string;
}

/** The `ssh` field every host check and the ssh-command reaction take. */
export const sshField: FieldSchema = {
  type: 'object',
  description:
    'Log in to this machine over SSH and look at it instead of the local one: host, port (default 22), user, and exactly ' +
    'one of key (a PEM/OpenSSH private key, with passphrase when it is encrypted) or password. hostKey pins the server ' +
    'key by its SHA256 fingerprint as `ssh-keygen -lf` prints it; without it the key met first is recorded (in the zone\'s ' +
    'Redis) and a different key later is refused, as OpenSSH does. Stored encrypted.',
  properties: {
    host: { type: 'string', description: 'Host name or address of the SSH server.', minLength: 1 },
    port: { type: 'integer', description: 'SSH port, default 22.', minimum: 1, maximum: 65535, default: 22 },
    user: { type: 'string', description: 'User to log in as.', minLength: 1 },
    key: { type: 'string', description: 'Private key text ("-----BEGIN OPENSSH PRIVATE KEY-----...").', pattern: '-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----', secret: true },
    passphrase: { type: 'string', description: 'Passphrase of an encrypted key.', minLength: 1, secret: true },
    password: { type: 'string', description: 'Password, instead of key.', minLength: 1, secret: true },
    hostKey: {
      type: 'string',
      description: 'Expected server key fingerprint, e.g. "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"; a different key fails the check. Absent: the key met first is trusted from then on.',
      pattern: '^SHA256:[A-Za-z0-9+/]{43}$',
    },
  },
  required: ['host', 'user'],
  oneOf: exactlyOneOf('key', 'password'),
  dependentRequired: { passphrase: ['key'] },
  additionalProperties: false,
  secret: true,
};

/** data.ssh as a target, or the reason it cannot be used (the schema says the same when a monitor is saved). */
export function sshTarget(ssh: unknown): SshTarget | string {
  const s = (ssh ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof s[k] === 'string' && s[k] !== '' ? (s[k] as string) : undefined);
  const host = str('host');
  const user = str('user');
  if (!host || !user) return 'data.ssh needs host and user';
  const key = str('key');
  const password = str('password');
  if (Boolean(key) === Boolean(password)) return `data.ssh needs exactly one of key or password, ${key ? 'not both' : 'got neither'}`;
  if (str('passphrase') && !key) return 'data.ssh.passphrase goes with data.ssh.key';
  const port = typeof s.port === 'number' ? s.port : 22;
  return { host, port, user, key, password, passphrase: str('passphrase'), hostKey: str('hostKey') };
}

/** A word as one single-quoted argument for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** A machine reached over SSH; every method costs one remote command on a pooled connection. */
export class SshHost implements Host {
  readonly label: string;
  readonly where: string;
  private readonly started = performance.now();

  /** `limitMs` bounds a new handshake; `signal` ends whatever is under way. */
  constructor(readonly target: SshTarget, private readonly signal: AbortSignal, private readonly limitMs: number) {
    const who = `${target.user}@${hostPort(target.host, target.port)}`;
    this.label = `${who} over SSH`;
    this.where = ` over SSH to ${who}`;
  }

  private timedOut(what: string): SshError {
    return errors.ssh('timeout', `timed out after ${Math.round(performance.now() - this.started)} ms ${what} over SSH to ${this.target.user}@${hostPort(this.target.host, this.target.port)}`);
  }

  /** A ready connection with a channel slot taken; a stale pooled one is replaced once. */
  private async connection(): Promise<Connection> {
    const conn = pooledConnection(this.target, this.limitMs);
    await abortable(conn.ready, this.signal, () => this.timedOut('connecting'));
    await conn.take();
    return conn;
  }

  /** Runs `fn` with an exec channel for `command`; retries once on a fresh connection when a reused one turned out dead. */
  private async withChannel<T>(command: string, fn: (ch: ClientChannel, conn: Connection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.connection();
      let channel: ClientChannel;
      try {
        channel = await abortable(conn.exec(command), this.signal, () => this.timedOut('opening a channel'));
      } catch (err) {
        conn.give();
        if (err instanceof SshError && err.kind === 'timeout') conn.drop();
        else if (conn.used && attempt === 0) {
          conn.drop();
          continue;
        }
        throw err instanceof SshError ? err : errors.ssh('lost', `SSH to ${hostPort(this.target.host, this.target.port)}: ${(err as Error).message}`);
      }
      try {
        return await fn(channel, conn);
      } finally {
        conn.give();
      }
    }
  }

  /** Runs a short command and collects all of its output; throws on a connection problem or a non-zero exit. */
  private async ask(command: string, what: string, okCodes = [0]): Promise<string> {
    return this.withChannel(`echo $$; ${command}`, (ch, conn) => {
      return new Promise<string>((resolve, reject) => {
        const out: Buffer[] = [];
        const err = new Tail();
        const head = new PidLine();
        let size = 0;
        let code: number | null = null;
        let gaveUp = false;
        ch.on('data', (c: Buffer) => {
          const known = head.pid !== undefined;
          const rest = head.feed(c);
          if (!known && gaveUp && head.pid) conn.side(`kill -KILL -- -${head.pid}`);
          if (!rest) return;
          size += rest.length;
          if (size <= MAX_OUTPUT) out.push(rest);
        });
        ch.stderr.on('data', (c: Buffer) => err.push(c));
        ch.on('exit', (c: number | null) => (code = c));
        const onAbort = () => {
          // Other checks share the connection: end only this command (a hung mount), unless the peer went silent.
          gaveUp = true;
          conn.abandon(ch, head.pid);
          reject(this.timedOut(what));
        };
        if (this.signal.aborted) return onAbort();
        this.signal.addEventListener('abort', onAbort, { once: true });
        ch.on('close', () => {
          this.signal.removeEventListener('abort', onAbort);
          if (code === null) return reject(conn.dead ? conn.lost() : errors.remoteNoExitStatus(command.split(' ')[0]!));
          if (!okCodes.includes(code)) return reject(errors.remoteExit(command.split(' ')[0]!, code, err.text().trim()));
          resolve(Buffer.concat(out).toString('utf8'));
        });
      });
    });
  }

  readText(path: string): Promise<string> {
    return this.ask(`cat -- ${shellQuote(path)}`, `reading ${path}`);
  }

  async listDir(path: string): Promise<string[]> {
    // Shell built-ins only, NUL-separated, so any file name survives.
    const script = `cd -- ${shellQuote(path)} && for f in * .[!.]* ..?*; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi; done`;
    return (await this.ask(script, `listing ${path}`)).split('\0').filter(Boolean);
  }

  async diskSpace(path: string): Promise<DiskSpace> {
    const text = await this.ask(`stat -f -c '%S %b %f %a' -- ${shellQuote(path)}`, `measuring ${path}`);
    const [frsize, blocks, free, avail] = text.trim().split(/\s+/).map(Number);
    if (![frsize, blocks, free, avail].every((n) => Number.isFinite(n))) throw errors.remoteOutput('unexpected stat -f output', text.trim());
    return { totalBytes: blocks! * frsize!, freeBytes: free! * frsize!, availableBytes: avail! * frsize! };
  }

  async cores(): Promise<number> {
    // Counted once per connection: a machine's core count does not change while it stays up.
    const cached = existingConnection(this.target)?.cores;
    if (cached) return cached;
    const text = await this.ask('getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c ^processor /proc/cpuinfo', 'counting CPU cores');
    const n = Number(text.trim());
    if (!(n >= 1)) throw errors.remoteOutput('cannot count CPU cores', text.trim());
    const conn = existingConnection(this.target);
    if (conn) conn.cores = n;
    return n;
  }

  async processes(): Promise<ProcessInfo[]> {
    // grep prefixes every output line with its file name, so no process can forge an entry; the shell becomes grep (exec)
    // and prints its pid first so it can be left out. Status 2: a process ended between the glob and the read.
    const text = await this.ask(`echo $$; exec grep -aH '' /proc/[0-9]*/comm /proc/[0-9]*/cmdline 2>/dev/null`, 'listing processes', [0, 2]);
    return parseProcesses(text);
  }

  run(command: Command, opts: RunOptions): Promise<RunResult> {
    return runRemote(this, command, opts);
  }

  /** For runRemote: an exec channel and a way to run a follow-up command on the same connection. */
  channel<T>(command: string, fn: (ch: ClientChannel, conn: Connection, side: (cmd: string) => void) => Promise<T>): Promise<T> {
    return this.withChannel(command, (ch, conn) => fn(ch, conn, (cmd) => conn.side(cmd)));
  }
}

/** An SshHost for data.ssh, or the reason data.ssh cannot be used. */
export function sshHost(ssh: unknown, signal: AbortSignal, limitMs: number): SshHost | string {
  const target = sshTarget(ssh);
  return typeof target === 'string' ? target : new SshHost(target, signal, limitMs);
}

/** Parses `echo $$; grep -aH '' /proc/N/comm /proc/N/cmdline` output into processes, leaving out the lister itself. */
export function parseProcesses(text: string): ProcessInfo[] {
  const nl = text.indexOf('\n');
  const self = Number(text.slice(0, nl));
  const comm = new Map<number, string>();
  const cmdline = new Map<number, string[]>();
  for (const line of text.slice(nl + 1).split('\n')) {
    const m = /^\/proc\/(\d+)\/(comm|cmdline):/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const rest = line.slice(m[0].length);
    if (m[2] === 'comm') comm.set(pid, rest);
    else cmdline.set(pid, [...(cmdline.get(pid) ?? []), rest]);
  }
  const out: ProcessInfo[] = [];
  for (const [pid, name] of comm) {
    if (pid === self) continue;
    out.push({ pid, comm: name, args: (cmdline.get(pid) ?? []).join('\n').split('\0').filter(Boolean) });
  }
  return out;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The remote command line: prints the shell's pid (its process group: sshd makes each session its own), exports env, execs the command. */
export function remoteLine(command: Command, env: Record<string, string> = {}): string {
  const exports = Object.entries(env)
    .filter(([k]) => ENV_NAME.test(k))
    .map(([k, v]) => `${k}=${shellQuote(v)}`);
  const run = 'shell' in command ? `exec /bin/sh -c ${shellQuote(command.shell)}` : `exec ${command.argv.map(shellQuote).join(' ')}`;
  return `echo $$; ${exports.length ? `export ${exports.join(' ')}; ` : ''}${run}`;
}

/** Splits off the `echo $$` line a remote command starts with: the pid of its shell, which leads its process group. */
class PidLine {
  pid: number | undefined;
  private head = '';

  /** The output in `chunk` after the pid line, or undefined while that line is still incomplete. */
  feed(chunk: Buffer): Buffer | undefined {
    if (this.pid !== undefined) return chunk;
    this.head += chunk.toString('latin1');
    const nl = this.head.indexOf('\n');
    if (nl < 0) return undefined;
    this.pid = Number(this.head.slice(0, nl)) || 0;
    return Buffer.from(this.head.slice(nl + 1), 'latin1');
  }
}

function runRemote(host: SshHost, command: Command, opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return host.channel(remoteLine(command, opts.env), (ch, conn, side) => {
    return new Promise<RunResult>((resolve, reject) => {
      const out = new Tail();
      const err = new Tail();
      const head = new PidLine();
      let timedOut = false;
      let exited: { code: number | null; killedBy: string | null } | undefined;
      let done = false;
      let grace: NodeJS.Timeout | undefined;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(grace);
        opts.signal.removeEventListener('abort', onDeadline);
        ch.close();
        resolve({
          code: exited?.code ?? null,
          killedBy: exited?.killedBy ?? (timedOut ? 'SIGKILL' : null),
          timedOut,
          stdout: out.text(),
          stderr: err.text(),
          elapsedMs: Math.round(performance.now() - started),
        });
      };
      const onDeadline = () => {
        if (exited || done) return;
        timedOut = true;
        if (head.pid) side(`kill -KILL -- -${head.pid}`);
        else ch.close();
        // No exit within a second of the kill: give up on the command and on the connection.
        grace = setTimeout(() => {
          conn.drop();
          finish();
        }, 1000);
      };
      ch.on('data', (c: Buffer) => {
        const known = head.pid !== undefined;
        const rest = head.feed(c);
        if (rest?.length) out.push(rest);
        if (!known && timedOut && head.pid) side(`kill -KILL -- -${head.pid}`);
      });
      ch.stderr.on('data', (c: Buffer) => err.push(c));
      ch.on('exit', (code: number | null, signal?: string) => {
        exited = { code: signal ? null : code, killedBy: signal ? `SIG${signal}` : null };
        clearTimeout(grace);
        // A background child may hold the channel open; do not wait for it long.
        grace = setTimeout(finish, 200);
      });
      ch.on('close', () => {
        if (exited || timedOut) return finish();
        done = true;
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onDeadline);
        reject(conn.dead ? conn.lost() : errors.ssh('lost', `the SSH session closed before the command's exit status came`));
      });
      const limit = opts.timeoutMs ?? 0;
      const timer = limit > 0 ? setTimeout(onDeadline, limit) : undefined;
      if (opts.signal.aborted) onDeadline();
      else opts.signal.addEventListener('abort', onDeadline, { once: true });
    });
  });
}

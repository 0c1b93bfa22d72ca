/** The machine a host check looks at or a command reaction runs on, behind one interface: `localHost` here, an SshHost elsewhere. */
import { spawn } from 'node:child_process';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { CheckJob, CheckResult, FieldSchema } from '../src/core/types.js';
import { SshError } from './ssh-connection.js';
import { errors } from '../src/core/errors.js';
import { sshHost } from './ssh-host.js';

/** A command: a shell line run by /bin/sh -c, or an argv run without a shell. */
export type Command = { shell: string } | { argv: string[] };

export interface RunOptions {
  signal: AbortSignal;
  /** Milliseconds before the command's process group is killed; 0 or absent: only the signal. */
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface RunResult {
  /** Exit status, or null when the command was ended by a signal or never started. */
  code: number | null;
  /** The signal that ended it, if any. */
  killedBy: string | null;
  /** True when it was killed at the deadline. */
  timedOut: boolean;
  /** Why it could not start (ENOENT ...), when it did not. */
  spawnError?: string;
  /** The last TAIL_BYTES of each stream. */
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface DiskSpace {
  totalBytes: number;
  availableBytes: number;
  freeBytes: number;
}

export interface ProcessInfo {
  pid: number;
  /** The kernel's name for it (/proc/PID/comm). */
  comm: string;
  /** Its command line (/proc/PID/cmdline). */
  args: string[];
}

/**
 * What host checks need from a machine. Over SSH every method is one remote command, and a failure to reach the
 * machine throws an SshError (see hostFailure).
 */
export interface Host {
  /** How messages name the machine, e.g. "this machine". */
  label: string;
  /** Appended to result messages: "" here, " over SSH to user@host:port" for another machine. */
  where: string;
  readText(path: string): Promise<string>;
  listDir(path: string): Promise<string[]>;
  diskSpace(path: string): Promise<DiskSpace>;
  /** Online CPU cores. */
  cores(): Promise<number>;
  /** Every process but the one doing the listing (the worker itself, here). */
  processes(): Promise<ProcessInfo[]>;
  run(command: Command, opts: RunOptions): Promise<RunResult>;
}

/** Bytes kept from the end of a command's output. */
export const TAIL_BYTES = 500;

/** Keeps the last TAIL_BYTES of a stream. */
export class Tail {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > TAIL_BYTES * 2) this.buf = this.buf.subarray(this.buf.length - TAIL_BYTES);
  }
  text(): string {
    return this.buf.subarray(Math.max(0, this.buf.length - TAIL_BYTES)).toString('utf8');
  }
}

/**
 * The environment a local command gets: the process's own, less CloudRoutes' settings. Those hold the secret key and
 * the Redis and store URLs with their passwords, and a command's output ends up in results, history and logs.
 */
export function commandEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('CLOUDROUTES_') && name !== 'REDIS_URL'));
}

function runLocal(command: Command, opts: RunOptions): Promise<RunResult> {
  const [file, args] = 'shell' in command ? ['/bin/sh', ['-c', command.shell]] : [command.argv[0]!, command.argv.slice(1)];
  const started = performance.now();
  return new Promise((resolve) => {
    const out = new Tail();
    const err = new Tail();
    let timedOut = false;
    let done = false;
    let exited: { code: number | null; killedBy: string | null } | undefined;
    let grace: NodeJS.Timeout | undefined;
    // Its own process group, so the deadline also ends what the shell started.
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...commandEnv(), ...opts.env } });
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const finish = (spawnError?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      opts.signal.removeEventListener('abort', onDeadline);
      resolve({
        code: exited?.code ?? null,
        killedBy: exited?.killedBy ?? null,
        timedOut,
        spawnError,
        stdout: out.text(),
        stderr: err.text(),
        elapsedMs: Math.round(performance.now() - started),
      });
    };
    const onDeadline = (): void => {
      if (exited || done) return;
      timedOut = true;
      killGroup();
    };
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      exited ??= { code: null, killedBy: null };
      finish(`${e.code ?? e.name}: ${e.message}`);
    });
    child.on('exit', (code, sig) => {
      exited = { code, killedBy: sig };
      // A background child may hold the pipes open; do not wait for it long.
      grace = setTimeout(() => finish(), 200);
    });
    child.on('close', () => finish());
    const limit = opts.timeoutMs ?? 0;
    const timer = limit > 0 ? setTimeout(onDeadline, limit) : undefined;
    if (opts.signal.aborted) onDeadline();
    else opts.signal.addEventListener('abort', onDeadline, { once: true });
  });
}

async function localProcesses(): Promise<ProcessInfo[]> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  const found = await Promise.all(
    pids.map(async (pid) => {
      try {
        const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
        return { pid: Number(pid), comm, args };
      } catch {
        // It ended between the listing and the read: it simply does not count.
        return undefined;
      }
    }),
  );
  return found.filter((p): p is ProcessInfo => p !== undefined);
}

/** This machine: files read directly, commands spawned in their own process group. */
export const localHost: Host = {
  label: 'this machine',
  where: '',
  readText: (path) => readFile(path, 'utf8'),
  listDir: (path) => readdir(path),
  async diskSpace(path) {
    const s = await statfs(path);
    return { totalBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, freeBytes: s.bfree * s.bsize };
  },
  cores: async () => Math.max(1, cpus().length),
  processes: localProcesses,
  run: runLocal,
};

/** A host whose every method fails with `reason` (data.ssh that cannot be used). */
function unusableHost(reason: string): Host {
  const fail = () => Promise.reject(errors.ssh('config', reason));
  return { label: 'an unusable SSH target', where: '', readText: fail, listDir: fail, diskSpace: fail, cores: fail, processes: fail, run: fail };
}

/**
 * The machine a job looks at: over SSH when data.ssh is set, else this one. `signal` ends remote work at the job's
 * deadline. With data.ssh that cannot be used (key and password both set, ...) every method fails saying why.
 */
export function hostFor(job: CheckJob, signal: AbortSignal = AbortSignal.timeout(job.timeoutMs)): Host {
  if (job.data.ssh === undefined) return localHost;
  const host = sshHost(job.data.ssh, signal, job.timeoutMs);
  return typeof host === 'string' ? unusableHost(`monitor "${job.name}": ${host}`) : host;
}

/**
 * The result for a machine that could not be reached or logged in to, or undefined for any other error.
 * A host key that differs from data.ssh.hostKey is failed (someone else answers at that address); refused, timed-out,
 * rejected and lost connections are unknown (the check could not look at the machine).
 */
export function hostFailure(err: unknown): CheckResult | undefined {
  if (!(err instanceof SshError)) return undefined;
  return { status: err.kind === 'host-key' ? 'failed' : 'unknown', message: err.message };
}

/** The command's output tail for a message: stderr when it wrote any, else stdout, trimmed. */
export function outputTail(r: RunResult): string {
  return (r.stderr.trim() || r.stdout.trim()).replace(/\s+/g, ' ');
}

/** A one-line account of a finished command, e.g. "exit status 3: no such unit". */
export function describeRun(r: RunResult, ok: number[] = [0]): { ok: boolean; text: string } {
  const tail = outputTail(r);
  const suffix = tail ? `: ${tail}` : '';
  if (r.spawnError) return { ok: false, text: `could not start: ${r.spawnError}` };
  if (r.timedOut) return { ok: false, text: `timed out after ${r.elapsedMs} ms (process group killed)${suffix}` };
  if (r.code === null) return { ok: false, text: `ended by ${r.killedBy ?? 'a signal'}${suffix}` };
  return { ok: ok.includes(r.code), text: `exit status ${r.code}${suffix}` };
}

/** Schema of okCodes, shared by the shell check and reaction. */
export const okCodesField: FieldSchema = {
  type: 'array',
  description: 'Exit statuses that count as success, e.g. [0, 3]; default [0].',
  items: { type: 'integer', minimum: 0, maximum: 255 },
};

/** Schema of argv, shared by the shell check and reaction. */
export const argvField: FieldSchema = {
  type: 'array',
  description: 'Program and arguments run without a shell, e.g. ["systemctl", "is-active", "nginx"]; use instead of command.',
  items: { type: 'string', minLength: 1 },
  minItems: 1,
};

/** data.command or data.argv as a Command, or a reason the data has neither (or both). */
export function commandOf(data: Record<string, unknown>): Command | string {
  const { command, argv } = data;
  const hasCommand = typeof command === 'string' && command.trim() !== '';
  const hasArgv = Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string' && a !== '');
  if (hasCommand === hasArgv) return 'exactly one of data.command (a shell line) or data.argv (a non-empty array of strings) must be set';
  return hasCommand ? { shell: command as string } : { argv: argv as string[] };
}

/** Runs the real `cloudroutes` command: one-shot CLI calls and long-running Procfile processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './cluster.js';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cloudroutes ...args` to completion. */
export function cli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Adds a tcp-check monitor of 127.0.0.1:`port` with the CLI and waits until `cloudroutes status` says it is healthy. */
export async function cliMonitorGoesHealthy(env: NodeJS.ProcessEnv, cwd: string, port: number, ms: number, what: string): Promise<void> {
  const add = await cli(['monitor', 'add', '--name', 'svc', '--ctype', 'tcp-check', '--interval', '1s', '--data', JSON.stringify({ host: '127.0.0.1', port })], env, cwd);
  if (add.code !== 0) throw new Error(`monitor add exited with ${add.code}: ${add.stderr}`);
  await waitFor(async () => {
    const s = await cli(['status', '--json'], env, cwd);
    return s.code === 0 && (JSON.parse(s.stdout) as { status: string }[])[0]?.status === 'healthy';
  }, ms, what);
}

export interface ProcOptions {
  /**
   * A command that runs node in its place, e.g. `ip netns exec <ns>` (another machine's network): it must exec node,
   * so that the child's pid is node's and signals reach it.
   */
  prefix?: string[];
}

/** A long-running `cloudroutes <name>` process whose output is kept for assertions. */
export class Proc {
  child!: ChildProcess;
  output = '';

  constructor(readonly args: string[], readonly env: NodeJS.ProcessEnv, readonly cwd?: string, readonly opts: ProcOptions = {}) {}

  start(): this {
    this.output = '';
    const [command, ...prefixArgs] = [...(this.opts.prefix ?? []), process.execPath];
    this.child = spawn(command!, [...prefixArgs, MAIN, ...this.args], { env: { ...process.env, LOG_LEVEL: 'info', ...this.env }, cwd: this.cwd });
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c));
    return this;
  }

  /** Resolves when the output contains `text`. */
  async waitFor(text: string | RegExp, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(typeof text === 'string' ? this.output.includes(text) : text.test(this.output))) {
      if (Date.now() > deadline) throw new Error(`"${this.args.join(' ')}" did not print ${text} within ${ms} ms; it printed:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill(signal);
    return exited;
  }
}

/** Pids of this machine's processes whose command line contains `text` (to see that a killed command is gone). */
export function pidsWith(text: string): string[] {
  return readdirSync('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

/** The bench's child processes: started in one place, so every one of them is stopped on exit, error or Ctrl-C. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  name: string;
  /** What the report groups it under. */
  role: 'cloudroutes' | 'redis' | 'target' | 'baseline';
  proc: ChildProcess;
  pid: number;
  /** Set when the bench itself stopped it, so its exit is not an error. */
  stopping: boolean;
}

const children: Child[] = [];
let onUnexpectedExit: ((c: Child, how: string) => void) | undefined;

/** Called when a child exits that the bench did not stop. */
export function watchExits(fn: (c: Child, how: string) => void): void {
  onUnexpectedExit = fn;
}

/** Spawns a child and registers it for clean-up. */
export function startChild(name: string, role: Child['role'], cmd: string, args: string[], opts: SpawnOptions): Child {
  const proc = spawn(cmd, args, opts);
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${cmd} ${args.join(' ')})`);
  const child: Child = { name, role, proc, pid: proc.pid, stopping: false };
  children.push(child);
  proc.on('error', (err) => onUnexpectedExit?.(child, err.message));
  proc.on('exit', (code, signal) => {
    if (!child.stopping) onUnexpectedExit?.(child, signal ? `signal ${signal}` : `exit code ${code}`);
  });
  return child;
}

export function running(role?: Child['role']): Child[] {
  return children.filter((c) => (!role || c.role === role) && c.proc.exitCode === null && c.proc.signalCode === null);
}

/** Reads the first line a child prints on stdout, parsed as JSON. */
export function firstJsonLine<T>(child: Child, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.proc.stdout! });
    const timer = setTimeout(() => reject(new Error(`${child.name} printed nothing within ${ms} ms`)), ms);
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${child.name} printed ${JSON.stringify(line)}, expected JSON`));
      }
    });
    // 'close' comes after the child's stdout has been read to its end, so a last line is never lost.
    child.proc.once('close', () => reject(new Error(`${child.name} exited before printing its result`)));
  });
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
export function stopChild(child: Child, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  child.stopping = true;
  const p = child.proc;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill(signal);
  });
}

/** Stops every child still running, those of `role` first when given. */
export async function stopAll(role?: Child['role'], graceMs = 5000): Promise<void> {
  await Promise.all(running(role).map((c) => stopChild(c, graceMs)));
}

/** Last resort on process exit: SIGKILL whatever is left (synchronous). */
export function killAllNow(): void {
  for (const c of running()) {
    c.stopping = true;
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

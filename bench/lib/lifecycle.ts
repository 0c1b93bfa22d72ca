/** What every bench entry point does around its work: positive-integer options, crash watch, clean-up on Ctrl-C, error and exit. */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { killAllNow, stopAll, watchExits, type Child } from './children.js';

/** A commander parser for an option that must be a positive integer. */
export const positiveInt = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

/** Progress lines on stderr, so stdout holds only the report. */
export const progressTo = (label: string) => (msg: string): void => {
  process.stderr.write(`[${label} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

export interface BenchRun {
  /** Rejects when a child dies on its own while the bench runs: race it against every wait. */
  crashed: Promise<never>;
  /** The run's temp dir, removed by stop() and on exit. */
  tmp: string | undefined;
  /** Stops every child (CloudRoutes processes first) and removes the temp dir. */
  stop(): Promise<void>;
}

/** The last lines of `<dir>/<name>.log`, where the benches send each process's output. */
function logTail(dir: string | undefined, c: Child, lines = 5): string {
  try {
    const text = readFileSync(join(dir ?? '', `${c.name}.log`), 'utf8').trim().split('\n').slice(-lines).join('\n    ');
    return text ? `\n    ${text}` : '';
  } catch {
    return '';
  }
}

/**
 * Runs `main` as the program's action: a child exiting on its own fails the run (with the end of its log),
 * Ctrl-C or an error stops every child and removes the temp dir, and whatever is left is killed on exit.
 */
export async function runBench<O>(program: Command, progress: (msg: string) => void, main: (o: O, run: BenchRun) => Promise<void>): Promise<void> {
  let fail: ((err: Error) => void) | undefined;
  let interrupted = false;
  const run: BenchRun = {
    crashed: new Promise<never>((_, reject) => (fail = reject)),
    tmp: undefined,
    async stop() {
      await stopAll('cloudroutes', 8000);
      await stopAll(undefined, 2000);
      if (run.tmp) rmSync(run.tmp, { recursive: true, force: true });
      run.tmp = undefined;
    },
  };
  run.crashed.catch(() => undefined);
  // On Ctrl-C the terminal signals the children too; their exits are then expected.
  watchExits((c, how) => interrupted || fail?.(new Error(`${c.name} (pid ${c.pid}) exited unexpectedly (${how})${logTail(run.tmp, c)}`)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      progress(`${signal}: stopping every child process and removing temp files`);
      void run.stop().finally(() => process.exit(130));
    });
  }
  process.on('exit', () => {
    killAllNow();
    if (run.tmp) rmSync(run.tmp, { recursive: true, force: true });
  });
  program.action(async (o: O) => {
    try {
      await main(o, run);
    } catch (err) {
      progress(`failed: ${(err as Error).message}`);
      await run.stop();
      process.exitCode = 1;
    }
  });
  await program.parseAsync(process.argv);
}

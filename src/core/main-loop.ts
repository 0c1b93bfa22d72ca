/**
 * Long-running loops of a process (a socket's receive loop, the control's rounds, the bridge's syncs). One that ends
 * while its component still runs leaves a process that looks alive and does nothing: it is reported, and the
 * process commands make such a process exit non-zero so that its process manager restarts it.
 */
import type { Logger } from 'pino';
import { errors, type CloudRoutesError } from './errors.js';

export type LoopEnded = (err: CloudRoutesError) => void;

let processHandler: LoopEnded | undefined;

/** Sets what happens in this process when a supervised loop ends (the process commands exit). */
export function onLoopEnded(handler: LoopEnded | undefined): void {
  processHandler = handler;
}

/**
 * Watches `loop`: if it returns or throws while `running()` is still true, logs it at fatal level and calls
 * `handler` (else the process's handler). Never rejects.
 */
export function supervise(proc: string, name: string, loop: Promise<unknown>, running: () => boolean, logger: Logger, handler?: LoopEnded): Promise<void> {
  return loop.then(
    () => 'it returned',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  ).then((reason) => {
    if (running()) fatal(errors.mainLoopEnded(proc, name, reason), logger, { loop: name }, handler);
  });
}

/** Logs `err` at fatal level and hands it to `handler` (else the process's handler, which exits 1). */
export function fatal(err: CloudRoutesError, logger: Logger, fields: Record<string, unknown> = {}, handler?: LoopEnded): void {
  logger.fatal({ code: err.code, ...fields }, err.message);
  (handler ?? processHandler)?.(err);
}

/**
 * Modules that run commands (meta.runsCommands) run only on a worker or sink started with --allow-commands
 * (CLOUDROUTES_ALLOW_COMMANDS=1): whoever can reach a broker must not be able to run a shell line on every machine.
 */
import { CloudRoutesError, errors } from './errors.js';
import type { PluginMeta } from './types.js';

/** Whether this process runs modules that run commands; when not, which kind of process it is, for the refusal. */
export type CommandPolicy = { allowed: true } | { allowed: false; refusedOn: 'worker' | 'sink' };

/** For a person running one module by hand on their own machine (`cloudroutes check`, `react`, cloudroutes/testing). */
export const COMMANDS_ALLOWED: CommandPolicy = { allowed: true };

/** A worker's or sink's policy from its --allow-commands flag. */
export function commandPolicy(allowCommands: boolean | undefined, process: 'worker' | 'sink'): CommandPolicy {
  return allowCommands ? COMMANDS_ALLOWED : { allowed: false, refusedOn: process };
}

/** The error to report instead of running a module with `meta`, or undefined when `policy` lets it run. */
export function commandRefusal(meta: PluginMeta, policy: CommandPolicy): CloudRoutesError | undefined {
  return meta.runsCommands === true && !policy.allowed ? errors.commandsNotAllowed(policy.refusedOn) : undefined;
}

/** CLOUDROUTES_ALLOW_COMMANDS: "1" allows, "0" or unset refuses; anything else stops the process at start, naming it. */
export function allowCommandsFromEnv(): boolean {
  const value = process.env.CLOUDROUTES_ALLOW_COMMANDS;
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw errors.badSetting('CLOUDROUTES_ALLOW_COMMANDS', value, 'it must be 1 (run modules that run commands) or 0');
}

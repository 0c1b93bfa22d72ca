// uvu 0.5 with hooks that say why they fail. uvu's runner returns from a `finally`, which swallows an error thrown by a
// before hook (the suite's tests silently do not run), an after.each hook's error aborts the rest of the suite without a
// word, and an after hook's error escapes as an unhandled rejection that stops the file's later suites. Here every hook
// error is printed with its stack and makes the process exit 1; before hooks still stop what they guard (rethrown), after
// hooks do not stop the rest (not rethrown).
import { exec, suite as uvuSuite } from 'uvu';

let hookFailures = 0;

process.on('exit', () => {
  if (hookFailures > 0) process.exitCode = 1;
});

function report(kind, suiteName, err) {
  hookFailures++;
  const text = err instanceof Error ? err.stack ?? `${err.name}: ${err.message}` : String(err);
  const where = suiteName ? `suite "${suiteName}"` : 'the file\'s default suite';
  process.stderr.write(`\n  FAIL  ${kind} hook of ${where} threw:\n    ${text.split('\n').join('\n    ')}\n\n`);
}

function guard(kind, suiteName, add, rethrow) {
  return (handler) =>
    add(async (state) => {
      try {
        await handler(state);
      } catch (err) {
        report(kind, suiteName, err);
        if (rethrow) throw err;
      }
    });
}

/** uvu's suite, its hooks guarded. */
export function suite(name = '', state = {}) {
  const t = uvuSuite(name, state);
  const { before, after } = t;
  t.before = guard('before', name, before, true);
  t.before.each = guard('before.each', name, before.each, true);
  t.after = guard('after', name, after, false);
  t.after.each = guard('after.each', name, after.each, false);
  return t;
}

export const test = suite();
export { exec };

// Runs every compiled test file under dist/test (one process per file, so servers and sockets never leak between files).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Every file runs with uvu's hooks guarded (test/uvu/strict.js): a throwing before/after hook is printed and fails the file.
const STRICT_HOOKS = new URL('./uvu/register.js', import.meta.url).href;

// TEST_ROOT: another folder of test files (the runner's own test runs fixtures with it).
const root = process.env.TEST_ROOT ?? 'dist/test';
const only = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'helpers') walk(p); }
    else if (name.endsWith('.test.js') && (only.length === 0 || only.some((o) => p.includes(o)))) files.push(p);
  }
})(root);

let passed = 0;
let failed = 0;
const failures = [];
for (const file of files) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', STRICT_HOOKS, file], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' }, timeout: 180_000 });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const p = /Passed:\s+(\d+)/.exec(out);
  const t = /Total:\s+(\d+)/.exec(out);
  const s = /Skipped:\s+(\d+)/.exec(out);
  const fileTotal = t ? Number(t[1]) : 0;
  const filePassed = p ? Number(p[1]) : 0;
  const fileSkipped = s ? Number(s[1]) : 0;
  // A file that exits 0 without its summary, with fewer passed than run, or with tests skipped (test.skip, or the others
  // of a .only) did not pass: a skipped test is one nobody ran.
  const why = [
    r.error ? `${r.error.message}` : r.status !== 0 ? `exit status ${r.status ?? r.signal}` : '',
    /^ {2}FAIL {2}\S+ hook of /m.test(out) ? 'a hook threw' : '',
    t === null ? 'no uvu summary' : fileTotal === 0 ? 'no tests' : '',
    filePassed < fileTotal ? `${fileTotal - filePassed} not passed` : '',
    fileSkipped > 0 ? `${fileSkipped} skipped (test.skip or .only)` : '',
  ].filter(Boolean);
  const ok = why.length === 0;
  passed += filePassed;
  failed += ok ? 0 : Math.max(1, fileTotal - filePassed);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file} (${filePassed}/${fileTotal}, ${((Date.now() - started) / 1000).toFixed(1)}s)${ok ? '' : `: ${why.join(', ')}`}`);
  if (!ok) failures.push([file, out]);
}
for (const [file, out] of failures) console.log(`\n--- ${file}\n${out}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);

// Runs every compiled test file under dist/test (one process per file, so servers and sockets never leak between files).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = 'dist/test';
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
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' }, timeout: 180_000 });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const p = /Passed:\s+(\d+)/.exec(out);
  const t = /Total:\s+(\d+)/.exec(out);
  const fileTotal = t ? Number(t[1]) : 0;
  const filePassed = p ? Number(p[1]) : 0;
  // A file that exits 0 without its summary, or with fewer passed than run, did not pass.
  const ok = r.status === 0 && t !== null && filePassed === fileTotal && fileTotal > 0;
  passed += filePassed;
  failed += ok ? fileTotal - filePassed : Math.max(1, fileTotal - filePassed);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file} (${filePassed}/${fileTotal}, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
  if (!ok) failures.push([file, out]);
}
for (const [file, out] of failures) console.log(`\n--- ${file}\n${out}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);

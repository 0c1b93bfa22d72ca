import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck } from 'cloudroutes/testing';

const MODULE = fileURLToPath(new URL('../my-checks/disk-file', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'disk-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, ageSeconds = 0): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  const then = (Date.now() - ageSeconds * 1000) / 1000;
  utimesSync(path, then, then);
  return path;
}

test('a fresh file with the text is healthy, with its age and size', async () => {
  const path = file('done', 'backup complete', 30);
  const { result, logs } = await runCheck(MODULE, { path, maxAgeSeconds: 3600, contains: 'complete' });
  assert.equal(result.status, 'healthy');
  assert.equal(result.message, `${path} changed 30s ago`);
  assert.deepEqual(result.metrics, { ageSeconds: 30, sizeBytes: 15 });
  assert.ok(logs.some((l) => l.level === 'debug' && l.msg === 'file is fresh'));
});

test('an old file fails, saying how old', async () => {
  const path = file('old', 'backup complete', 5400);
  const { result } = await runCheck(MODULE, { path, maxAgeSeconds: 3600 });
  assert.equal(result.status, 'failed');
  assert.equal(result.message, `${path} was last changed 1h30m ago, more than 1h`);
});

test('a missing file, or one without the text, fails naming the file', async () => {
  const missing = await runCheck(MODULE, { path: join(dir, 'nothing') });
  assert.equal(missing.result.status, 'failed');
  assert.match(missing.result.message ?? '', /nothing cannot be read: ENOENT/);
  const path = file('partial', 'backup started');
  const partial = await runCheck(MODULE, { path, contains: 'complete' });
  assert.equal(partial.result.message, `${path} does not contain "complete"`);
});

test('bad data is refused as "monitor add" refuses it, naming the field', async () => {
  await assert.rejects(runCheck(MODULE, { path: '/tmp/x', maxAgeSeconds: 0 }), /data\.maxAgeSeconds must be >= 1/);
  await assert.rejects(runCheck(MODULE, { path: '/tmp/x', size: 1 }), /data\.size is not a known field/);
});

/**
 * Where the secret key comes from and what a bad one says: CLOUDROUTES_SECRET_KEY, else the data folder's secret.key,
 * and `secrets rewrap --old-key-file`. Each refusal names the setting or the file at fault.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCli } from './helpers/cli-suite.js';
import { cli, type CliResult } from './helpers/procs.js';

const { dir, env } = useCli(test, 'secrets-key');
const dataDir = join(dir, 'data');
const keyFile = join(dataDir, 'secret.key');
const TCP = JSON.stringify({ host: '127.0.0.1', port: 9 });
const addMonitor = (extra: NodeJS.ProcessEnv = {}) => cli(['monitor', 'add', '--name', 'm', '--ctype', 'tcp-check', '--data', TCP], { ...env, ...extra }, dir);
const withoutSetting = { CLOUDROUTES_SECRET_KEY: '' };

function refused(r: CliResult, code: string, pattern: RegExp): void {
  assert.is(r.code, code === 'CR_SECRET_KEY' ? 1 : 2, r.stderr);
  assert.ok(r.stderr.includes(`[${code}]`), r.stderr);
  assert.match(r.stderr, pattern);
  assert.is(r.stdout, '');
}

test.before.each(() => {
  rmSync(keyFile, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
});

test('a CLOUDROUTES_SECRET_KEY that is not 64 hex characters is refused, the key file or not', async () => {
  writeFileSync(keyFile, 'ab'.repeat(32));
  refused(await addMonitor({ CLOUDROUTES_SECRET_KEY: 'cd'.repeat(31) }), 'CR_SECRET_KEY', /CLOUDROUTES_SECRET_KEY must be 64 hex characters \(32 bytes\)/);
});

test('without the setting, a key file that holds no key is refused naming the file; no key file is no key', async () => {
  writeFileSync(keyFile, 'not a key\n');
  refused(await addMonitor(withoutSetting), 'CR_SECRET_KEY', new RegExp(`is not set, and its key file ${keyFile} does not hold 64 hex characters`));
  rmSync(keyFile);
  mkdirSync(keyFile);
  refused(await addMonitor(withoutSetting), 'CR_SECRET_KEY', new RegExp(`its key file ${keyFile} cannot be read \\(EISDIR\\)`));
  rmSync(keyFile, { recursive: true });
  const none = await addMonitor(withoutSetting);
  assert.is(none.code, 0, `a monitor without secrets needs no key: ${none.stderr}`);
  writeFileSync(keyFile, `${'ef'.repeat(32)}\n`);
  const fromFile = await addMonitor(withoutSetting);
  assert.is(fromFile.code, 0, `the key file, its newline ignored: ${fromFile.stderr}`);
});

test('secrets rewrap --old-key-file refuses a missing file and one that holds no key, naming it', async () => {
  const rewrap = (file: string) => cli(['secrets', 'rewrap', '--old-key-file', file], env, dir);
  const missing = join(dir, 'no-such.key');
  refused(await rewrap(missing), 'CR_BAD_SETTING', new RegExp(`--old-key-file="${missing}" is invalid: a readable file holding the key \\(ENOENT\\)`));
  const bad = join(dir, 'bad.key');
  writeFileSync(bad, 'ab'.repeat(31));
  refused(await rewrap(bad), 'CR_BAD_SETTING', new RegExp(`--old-key-file="${bad}" is invalid: a file holding 64 hex characters \\(32 bytes\\)`));
});

test.run();

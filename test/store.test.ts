import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloudRoutesError } from '../src/core/errors.js';
import { openStore } from '../src/store/open.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { monitor, storeSuite } from './helpers/store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-store-'));
let n = 0;

storeSuite('sqlite', () => openStore(`sqlite:${join(dir, `s${++n}`, 'cloudroutes.db')}`));

async function storeError(fn: () => Promise<unknown>): Promise<CloudRoutesError> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, CloudRoutesError);
    return err as CloudRoutesError;
  }
  throw new assert.Assertion({ message: 'expected an error', generated: false, operator: 'throws', expects: 'error', actual: 'none' });
}

test('data survives closing and reopening the file', async () => {
  const file = join(dir, 'reopen', 'db.sqlite');
  const a = await openStore(`sqlite:${file}`);
  await a.putMonitor(monitor('m1'));
  await a.close();
  const b = await openStore(`sqlite:${file}`);
  assert.equal(await b.getMonitor('m1'), monitor('m1'));
  assert.is(await (b as SqliteStore).lastChange(), 1, 'the change log survives too');
  await b.close();
});

test('a new store file and its -wal and -shm files are 0600 whatever the umask, its new folder 0700', async () => {
  const old = process.umask(0o022);
  try {
    const file = join(dir, 'private', 'cloudroutes.db');
    const store = await openStore(`sqlite:${file}`);
    await store.putMonitor(monitor('m1'));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.is((statSync(f).mode & 0o777).toString(8), '600', f);
    assert.is((statSync(join(dir, 'private')).mode & 0o777).toString(8), '700');
    await store.close();
  } finally {
    process.umask(old);
  }
});

test('a folder that cannot be created gives a CR_STORE error naming the file', async () => {
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'not a folder');
  const file = join(blocker, 'sub', 'db.sqlite');
  const err = await storeError(() => openStore(`sqlite:${file}`));
  assert.is(err.code, 'CR_STORE');
  assert.match(err.message, file);
  assert.match(err.message, 'CLOUDROUTES_STORE');
});

test('a folder as the file, or a file that is not a database, gives a CR_STORE error', async () => {
  const err = await storeError(() => openStore(`sqlite:${dir}`));
  assert.is(err.code, 'CR_STORE');
  assert.match(err.message, dir);
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not sqlite '.repeat(100));
  const err2 = await storeError(() => openStore(`sqlite:${junk}`));
  assert.is(err2.code, 'CR_STORE');
  assert.match(err2.message, junk);
  assert.match(err2.message, 'not a healthy SQLite database');
});

test('using a store before init() says so', async () => {
  const err = await storeError(() => new SqliteStore(join(dir, 'x.db')).listMonitors());
  assert.is(err.code, 'CR_STORE');
  assert.match(err.message, 'init()');
});

test('openStore: an unknown scheme is a bad setting', async () => {
  const bad = await storeError(() => openStore('mysql://x'));
  assert.is(bad.code, 'CR_BAD_SETTING');
  assert.match(bad.message, 'CLOUDROUTES_STORE');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();

/**
 * `secrets rewrap` against edits made while it runs: a monitor edited and a reaction removed by `cloudroutes` in
 * another process, after rewrap read them and before it writes, keep that edit; rewrap reports them as skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decryptFields } from '../src/core/crypto.js';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import type { Monitor, Reaction } from '../src/core/types.js';
import { rewrapSecrets } from '../src/manage/rewrap.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { cli } from './helpers/procs.js';
import { encryptV1 } from './helpers/v1-secret.js';

const KEY = randomBytes(32);
const dir = mkdtempSync(join(tmpdir(), 'cr-rewrap-edit-'));
const file = join(dir, 'store.db');
const env = { CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'), CLOUDROUTES_SECRET_KEY: KEY.toString('hex'), LOG_LEVEL: 'silent' };
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The store rewrap runs on: once rewrap has listed the reactions (its last read), `meanwhile` runs before it goes on. */
class EditedMeanwhile extends SqliteStore {
  meanwhile?: () => Promise<void>;
  override async listReactions(): Promise<Reaction[]> {
    const listed = await super.listReactions();
    const edit = this.meanwhile;
    this.meanwhile = undefined;
    await edit?.();
    return listed;
  }
}

const site = (id: string, authorization: string): Monitor => ({
  id, name: id, ctype: 'http-get-statuscode', interval: 60, reactions: [], createdAt: 1, updatedAt: 1,
  data: { url: 'https://api.example.com/', headers: encryptV1(KEY, { authorization }) },
});

test('a record edited or removed between rewrap\'s reading and writing keeps that edit and is reported as skipped', async () => {
  const store = new EditedMeanwhile(file);
  await store.init();
  await store.putMonitor(site('m-edited', 'Bearer old'));
  await store.putMonitor(site('m-other', 'Bearer other'));
  await store.putReaction({ id: 'r-gone', name: 'gone', rtype: 'webhook', trigger: 1, frequency: 0, callOn: 'failed', once: false, createdAt: 1, updatedAt: 1, data: { url: 'https://hooks.example.com/', headers: encryptV1(KEY, { 'x-key': 'k' }) } });
  store.meanwhile = async () => {
    const edit = await cli(['monitor', 'edit', 'm-edited', '--data', JSON.stringify({ url: 'https://api.example.com/v2', headers: { authorization: 'Bearer edited' } })], env, dir);
    assert.is(edit.code, 0, edit.stderr);
    const removed = await cli(['reaction', 'rm', 'r-gone'], env, dir);
    assert.is(removed.code, 0, removed.stderr);
  };

  const report = await rewrapSecrets(store, checkLoader(), reactionLoader(), KEY);
  assert.is(store.meanwhile, undefined, 'the edits ran while rewrap was between reading and writing');
  assert.equal(report.rewrapped.map((r) => r.id), ['m-other']);
  assert.equal(report.skipped.map((r) => `${r.kind} ${r.id}`).sort(), ['monitor m-edited', 'reaction r-gone']);

  const fields = (await checkLoader().load('http-get-statuscode')).meta.fields;
  const edited = (await store.getMonitor('m-edited'))!;
  assert.is(edited.data.url, 'https://api.example.com/v2', 'the edit was not reverted');
  assert.equal(decryptFields(KEY, edited.data, fields, { kind: 'monitor', id: 'm-edited' }).headers, { authorization: 'Bearer edited' });
  assert.is(await store.getReaction('r-gone'), undefined, 'the removed reaction was not written back');
  const other = (await store.getMonitor('m-other'))!;
  assert.match(String(other.data.headers), /^enc:v2:/);
  assert.equal(decryptFields(KEY, other.data, fields, { kind: 'monitor', id: 'm-other' }).headers, { authorization: 'Bearer other' });
  await store.close();

  // The edit stored its secret as enc:v2 under the current key already: a second run has nothing left to do.
  const again = await cli(['secrets', 'rewrap', '--json'], env, dir);
  assert.is(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout), { dryRun: false, rewrapped: [], skipped: [], unchanged: 2 });
});

test.run();

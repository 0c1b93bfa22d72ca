// `cloudroutes store init --replicas N --shards N` and the layout `store check` shows, on the wire-protocol test server
// (one server, like a single real RethinkDB) or on a real RethinkDB when RETHINKDB_URL is set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { r } from 'rethinkdb-ts';
import { RethinkPool } from '../src/store/rethinkdb-pool.js';
import { TABLES } from '../src/store/rethinkdb-schema.js';
import { parseRethinkUrl } from '../src/store/rethinkdb-url.js';
import { cli } from './helpers/procs.js';
import { startRethinkTestServer } from './rethinkdb-server/index.js';

const realUrl = process.env.RETHINKDB_URL;
const server = realUrl ? undefined : await startRethinkTestServer({ user: 'admin', password: 'secret' });
const db = `cr_layout_${process.pid}`;
const url = realUrl ? realUrl.replace(/\/[^/]*$/, `/${db}`) : `rethinkdb://admin:secret@127.0.0.1:${server!.port}/${db}`;
const env = { CLOUDROUTES_STORE: url, LOG_LEVEL: 'silent' };
const admin = new RethinkPool(parseRethinkUrl(url), { retryMs: 100 });
await admin.open();

test.after(async () => {
  await admin.run('dropping the test database', r.dbDrop(db)).catch(() => undefined);
  await admin.close();
  await server?.stop();
});

interface Out {
  created: string[];
  reconfigured: { table: string; from: { replicas: number; shards: number }; to: { replicas: number; shards: number } }[];
  tables: { table: string; replicas: number; shards: number }[];
}
const json = async (...args: string[]): Promise<Out> => {
  const res = await cli([...args, '--json'], env);
  assert.is(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as Out;
};
const every = (replicas: number, shards: number) => TABLES.map((table) => ({ table, replicas, shards }));

test('--replicas 2 on a single server fails naming the problem, before any table is made', async () => {
  const res = await cli(['store', 'init', '--replicas', '2'], env);
  assert.is(res.code, 1, res.stdout);
  assert.match(res.stderr, 'CR_STORE');
  assert.match(res.stderr, `creating table ${db}.monitors with 2 replicas`);
  assert.match(res.stderr, "Can't put 2 replicas on servers with the tag `default` because there are only 1 servers with the tag `default`");
  assert.match(res.stderr, 'fewer servers than the replicas asked for: lower --replicas, or join more servers to the cluster first');
  assert.equal(await admin.run('listing tables', r.db(db).tableList()), []);
});

test('new tables get --shards; store check shows each table\'s replicas and shards', async () => {
  const out = await json('store', 'init', '--shards', '2');
  assert.ok(out.created.includes('table signals') && out.created.includes('index signals.storedAt'), JSON.stringify(out.created));
  assert.equal(out.reconfigured, []);
  assert.equal(out.tables, every(1, 2));
  assert.equal((await json('store', 'check')).tables, every(1, 2));
  const text = await cli(['store', 'check'], env);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /TABLE +REPLICAS +SHARDS\n/);
  assert.match(text.stdout, /\nsignals +1 +2\b/);
});

test('existing tables whose layout differs are reconfigured, once: a second run changes nothing', async () => {
  const out = await json('store', 'init', '--replicas', '1', '--shards', '1');
  assert.equal(out.created, []);
  assert.equal(out.reconfigured, TABLES.map((table) => ({ table, from: { replicas: 1, shards: 2 }, to: { replicas: 1, shards: 1 } })));
  assert.equal(out.tables, every(1, 1));
  const again = await json('store', 'init', '--replicas', '1', '--shards', '1');
  assert.equal([again.created, again.reconfigured], [[], []]);
  const text = await cli(['store', 'init', '--shards', '3'], env);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, 'reconfigured table history: 1 replica, 1 shard -> 1 replica, 3 shards\n');
});

test('--replicas 2 on existing tables fails naming the problem and leaves them as they were', async () => {
  const res = await cli(['store', 'init', '--replicas', '2'], env);
  assert.is(res.code, 1, res.stdout);
  assert.match(res.stderr, `reconfiguring table ${db}.monitors from 1 replica, 3 shards to 2 replicas, 3 shards`);
  assert.match(res.stderr, "Can't put 2 replicas on servers with the tag `default` because there are only 1 servers");
  assert.equal((await json('store', 'check')).tables, every(1, 3));
});

test('bad values and a SQLite store are usage errors naming the option', async () => {
  const zero = await cli(['store', 'init', '--replicas', '0'], env);
  assert.is(zero.code, 2);
  assert.match(zero.stderr, '--replicas="0" is invalid: it must be a whole number from 1 to 64');
  const sqlite = await cli(['store', 'init', '--replicas', '3'], { ...env, CLOUDROUTES_STORE: 'sqlite::memory:' });
  assert.is(sqlite.code, 2);
  assert.match(sqlite.stderr, 'replicas and shards are for a RethinkDB store; CLOUDROUTES_STORE is sqlite::memory:');
});

test.run();

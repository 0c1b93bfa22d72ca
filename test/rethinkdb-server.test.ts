// The RethinkDB wire-protocol test server, driven by the real rethinkdb-ts driver and by a raw protocol client.
// With RETHINKDB_URL (rethinkdb://user:password@host:port) the same tests run against that real server instead,
// in a database of their own that is dropped at the end: both must pass.
import { type Connection, r, type RDatum } from 'rethinkdb-ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startRethinkTestServer } from './rethinkdb-server/index.js';
import { RawClient, type RawTarget, token } from './rethinkdb-server/raw-client.js';

const REAL_URL = process.env.RETHINKDB_URL;
const PASSWORD = 'pa:ss w0rd';

function parseUrl(url: string): RawTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 28015),
    user: decodeURIComponent(u.username || 'admin'),
    password: decodeURIComponent(u.password),
  };
}

const server = REAL_URL ? undefined : await startRethinkTestServer({ user: 'admin', password: PASSWORD });
const target: RawTarget = REAL_URL ? parseUrl(REAL_URL) : { host: '127.0.0.1', port: server!.port, user: 'admin', password: PASSWORD };
const DB = `rdbtest_${process.pid}_${Date.now().toString(36)}`;
let conn: Connection;

const connect = (over: Partial<RawTarget> = {}): Promise<Connection> => r.connect({ ...target, ...over, db: DB, silent: true });
const tbl = (name: string) => r.db(DB).table(name);

/** The error a promise rejects with (fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<{ name: string; msg: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { name: string; msg: string; message: string };
  }
  throw new assert.Assertion({ message: 'expected the query to fail', generated: false, operator: 'rejects', expects: 'error', actual: 'a result' });
}

const ZERO = { deleted: 0, errors: 0, inserted: 0, replaced: 0, skipped: 0, unchanged: 0 };
const ids = (rows: { id: unknown }[]): unknown[] => rows.map((x) => x.id);

test.before(async () => {
  conn = await connect();
  await r.dbCreate(DB).run(conn);
  await r.db(DB).tableCreate('people').run(conn);
  await tbl('people')
    .insert([
      { id: 1, name: 'Ann', city: 'Paris', age: 31, tags: ['a', 'b'] },
      { id: 2, name: 'Bob', city: 'Rome', age: 25, tags: ['b'] },
      { id: 3, name: 'Cid', city: 'Paris', age: 22, tags: [] },
      { id: 4, name: 'Dan', city: 'Oslo', age: 47 },
      { id: 5, name: 'Eve', city: 'Paris', age: 31, tags: ['c'] },
    ])
    .run(conn);
  await tbl('people').indexCreate('city').run(conn);
  await tbl('people').indexCreate('age').run(conn);
  await tbl('people').indexCreate('city_age', (p: RDatum) => [p('city'), p('age')]).run(conn);
  await tbl('people').indexCreate('tags', { multi: true }).run(conn);
  await tbl('people').indexWait().run(conn);
});

test.after(async () => {
  await r.dbDrop(DB).run(conn).catch(() => undefined);
  await conn.close();
  await server?.stop();
});

test('handshake: the right password connects; SERVER_INFO and a query answer', async () => {
  const info = await conn.server();
  assert.type(info.id, 'string');
  assert.is(info.proxy, false);
  assert.is(await r.expr(1).add(2).run(conn), 3);
});

test('handshake: a wrong password or an unknown user is refused with an auth error (codes 12, 17)', async () => {
  const err = await failure(connect({ password: `${target.password}-wrong` }));
  assert.is(err.name, 'ReqlAuthError');
  assert.is(err.msg, 'Wrong password');
  const wrong = (await failure(RawClient.open({ ...target, password: 'nope' }))) as unknown as Record<string, unknown>;
  assert.equal(wrong, { error: 'Wrong password', error_code: 12, success: false });
  const unknown = (await failure(RawClient.open({ ...target, user: `nobody_${process.pid}` }))) as unknown as Record<string, unknown>;
  assert.equal(unknown, { error: 'Unknown user', error_code: 17, success: false });
});

test('db and table create, list and drop answer with the documented summaries', async () => {
  const db2 = `${DB}_b`;
  const created = await r.dbCreate(db2).run(conn);
  assert.is(created.dbs_created, 1);
  assert.is(created.config_changes![0].old_val, null);
  assert.is(created.config_changes![0].new_val!.name, db2);
  assert.ok((await r.dbList().run(conn)).includes(db2));
  assert.ok((await r.dbList().run(conn)).includes('rethinkdb'));
  const t1 = await r.db(db2).tableCreate('things', { primaryKey: 'key' }).run(conn);
  assert.is(t1.tables_created, 1);
  assert.is(t1.config_changes![0].new_val!.primary_key, 'key');
  assert.is(t1.config_changes![0].new_val!.db, db2);
  await r.db(db2).tableCreate('alpha').run(conn);
  assert.equal(await r.db(db2).tableList().run(conn), ['alpha', 'things']);
  assert.equal(await r.db(db2).table('alpha').wait({ waitFor: 'ready_for_writes' }).run(conn), { ready: 1 });
  const dup = await failure(r.db(db2).tableCreate('alpha').run(conn));
  assert.is(dup.name, 'ReqlOpFailedError');
  assert.is(dup.msg, `Table \`${db2}.alpha\` already exists.`);
  assert.is((await failure(r.dbCreate(db2).run(conn))).msg, `Database \`${db2}\` already exists.`);
  assert.is((await r.db(db2).tableDrop('things').run(conn)).tables_dropped, 1);
  const dropped = await r.dbDrop(db2).run(conn);
  assert.is(dropped.dbs_dropped, 1);
  assert.is(dropped.tables_dropped, 1);
  assert.not.ok((await r.dbList().run(conn)).includes(db2));
});

test('insert and get: write summaries, generated keys, conflicts', async () => {
  await r.db(DB).tableCreate('items').run(conn);
  assert.equal(await tbl('items').insert([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]).run(conn), { ...ZERO, inserted: 2 });
  const gen = await tbl('items').insert({ n: 3 }).run(conn);
  assert.is(gen.inserted, 1);
  assert.is(gen.generated_keys!.length, 1);
  assert.match(gen.generated_keys![0], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const dup = await tbl('items').insert({ id: 'a', n: 9 }).run(conn);
  assert.equal({ ...dup, first_error: undefined }, { ...ZERO, errors: 1, first_error: undefined });
  // The server prints documents in messages with tabs, also after each key's colon.
  assert.is(dup.first_error, 'Duplicate primary key `id`:\n{\n\t"id":\t"a",\n\t"n":\t1\n}\n{\n\t"id":\t"a",\n\t"n":\t9\n}');
  assert.equal(await tbl('items').insert({ id: 'a', m: 1 }, { conflict: 'update' }).run(conn), { ...ZERO, replaced: 1 });
  assert.equal(await tbl('items').get('a').run(conn), { id: 'a', n: 1, m: 1 });
  assert.equal(await tbl('items').insert({ id: 'a', n: 5 }, { conflict: 'replace' }).run(conn), { ...ZERO, replaced: 1 });
  assert.equal(await tbl('items').get('a').run(conn), { id: 'a', n: 5 });
  assert.equal(await tbl('items').insert({ id: 'a', n: 5 }, { conflict: 'replace' }).run(conn), { ...ZERO, unchanged: 1 });
  assert.is(await tbl('items').get('zzz').run(conn), null);
  const changes = await tbl('items').insert({ id: 'c', n: 7 }, { returnChanges: true }).run(conn);
  assert.equal(changes.changes, [{ new_val: { id: 'c', n: 7 }, old_val: null }]);
  assert.is(await tbl('items').count().run(conn), 4);
});

test('secondary indexes: getAll, compound between with minval/maxval, orderBy index, multi index', async () => {
  assert.equal(await tbl('people').indexList().run(conn), ['age', 'city', 'city_age', 'tags']);
  const status = await tbl('people').indexStatus('city_age').run(conn);
  assert.is(status[0].index, 'city_age');
  assert.is(status[0].ready, true);
  assert.equal(ids(await tbl('people').getAll('Paris', { index: 'city' }).orderBy('id').run(conn)), [1, 3, 5]);
  assert.equal(ids(await tbl('people').getAll('Rome', 'Oslo', { index: 'city' }).orderBy('id').run(conn)), [2, 4]);
  assert.equal(ids(await tbl('people').getAll(2, 4, 99).orderBy('id').run(conn)), [2, 4]);
  assert.equal(ids(await tbl('people').getAll('b', { index: 'tags' }).orderBy('id').run(conn)), [1, 2]);
  const parisByAge = tbl('people').between(['Paris', r.minval], ['Paris', r.maxval], { index: 'city_age' });
  assert.equal(ids(await parisByAge.orderBy({ index: r.desc('city_age') }).run(conn)), [5, 1, 3]);
  assert.equal(ids(await parisByAge.orderBy({ index: 'city_age' }).limit(2).run(conn)), [3, 1]);
  // Half-open by default: 31 is excluded on the right, included on the left.
  assert.equal(ids(await tbl('people').between(25, 31, { index: 'age' }).orderBy({ index: 'age' }).run(conn)), [2]);
  assert.equal(
    ids(await tbl('people').between(25, 31, { index: 'age', rightBound: 'closed' }).orderBy({ index: 'age' }).run(conn)),
    [2, 1, 5],
  );
  assert.equal(ids(await tbl('people').between(r.minval, 3).orderBy({ index: 'id' }).run(conn)), [1, 2]);
  assert.equal(ids(await tbl('people').orderBy({ index: r.desc('id') }).limit(2).run(conn)), [5, 4]);
  const noIndex = await failure(tbl('people').getAll('x', { index: 'nope' }).run(conn));
  assert.is(noIndex.name, 'ReqlOpFailedError');
  assert.is(noIndex.msg, `Index \`nope\` was not found on table \`${DB}.people\`.`);
});

test('orderBy, filter, count, pluck, without, limit, skip', async () => {
  assert.equal(ids(await tbl('people').orderBy('age', 'id').run(conn)), [3, 2, 1, 5, 4]);
  assert.equal(ids(await tbl('people').orderBy(r.desc('age'), 'id').run(conn)), [4, 1, 5, 2, 3]);
  assert.equal(ids(await tbl('people').filter({ city: 'Paris', age: 31 }).orderBy('id').run(conn)), [1, 5]);
  assert.equal(ids(await tbl('people').filter((p: RDatum) => p('age').gt(30)).orderBy('id').run(conn)), [1, 4, 5]);
  // A missing field makes the row not match (filter's implicit default(false)).
  assert.equal(ids(await tbl('people').filter((p: RDatum) => p('tags').contains('c')).run(conn)), [5]);
  assert.is(await tbl('people').filter({ city: 'Paris' }).count().run(conn), 3);
  assert.equal(await tbl('people').get(1).pluck('name', 'age').run(conn), { name: 'Ann', age: 31 });
  assert.equal(await tbl('people').get(4).without('city', 'age').run(conn), { id: 4, name: 'Dan' });
  assert.equal(await tbl('people').orderBy('id').skip(1).limit(2)('name').run(conn), ['Bob', 'Cid']);
  assert.is(await tbl('people').get(4)('tags').default('none').run(conn), 'none');
});

test('update, replace and delete report what they changed', async () => {
  await r.db(DB).tableCreate('w').run(conn);
  await tbl('w').insert([{ id: 1, v: 1 }, { id: 2, v: 2 }, { id: 3, v: 3 }]).run(conn);
  assert.equal(await tbl('w').filter((x: RDatum) => x('v').ge(2)).update({ big: true }).run(conn), { ...ZERO, replaced: 2 });
  assert.equal(await tbl('w').get(2).update({ big: true }).run(conn), { ...ZERO, unchanged: 1 });
  assert.equal(await tbl('w').get(9).update({ big: true }).run(conn), { ...ZERO, skipped: 1 });
  const inc = await tbl('w').get(1).update((x: RDatum) => ({ v: x('v').add(10) }), { returnChanges: true }).run(conn);
  assert.equal(inc, { ...ZERO, replaced: 1, changes: [{ new_val: { id: 1, v: 11 }, old_val: { id: 1, v: 1 } }] });
  assert.equal(await tbl('w').get(3).replace({ id: 3, only: 'this' }).run(conn), { ...ZERO, replaced: 1 });
  assert.equal(await tbl('w').get(3).run(conn), { id: 3, only: 'this' });
  const pk = await tbl('w').get(3).replace({ id: 4 }).run(conn);
  assert.is(pk.errors, 1);
  assert.match(pk.first_error ?? '', /^Primary key `id` cannot be changed/);
  assert.equal(await tbl('w').getAll(1, 2).delete().run(conn), { ...ZERO, deleted: 2 });
  assert.equal(await tbl('w').get(1).delete().run(conn), { ...ZERO, skipped: 1 });
  assert.equal(await tbl('w').delete().run(conn), { ...ZERO, deleted: 1 });
  assert.is(await tbl('w').count().run(conn), 0);
});

test('a changefeed receives inserts, updates and deletes, and closes', async () => {
  await r.db(DB).tableCreate('feed').run(conn);
  const feed = await tbl('feed').changes().run(conn);
  await tbl('feed').insert({ id: 1, s: 'new' }).run(conn);
  await tbl('feed').get(1).update({ s: 'seen' }).run(conn);
  await tbl('feed').get(1).delete().run(conn);
  assert.equal(await feed.next(), { new_val: { id: 1, s: 'new' }, old_val: null });
  assert.equal(await feed.next(), { new_val: { id: 1, s: 'seen' }, old_val: { id: 1, s: 'new' } });
  assert.equal(await feed.next(), { new_val: null, old_val: { id: 1, s: 'seen' } });
  // A change that arrives while the client waits releases the held CONTINUE.
  const pending = feed.next();
  setTimeout(() => void tbl('feed').insert({ id: 2 }).run(conn), 30);
  assert.equal(await pending, { new_val: { id: 2 }, old_val: null });
  await feed.close();
  const after = await failure(feed.next());
  assert.match(after.msg, /closed/);
});

test('filtered, point and include_initial changefeeds', async () => {
  await r.db(DB).tableCreate('feed2').run(conn);
  await tbl('feed2').insert([{ id: 1, on: true }, { id: 2, on: false }]).run(conn);
  const onlyOn = await tbl('feed2').filter({ on: true }).changes({ includeInitial: true }).run(conn);
  const point = await tbl('feed2').get(2).changes({ includeInitial: true }).run(conn);
  assert.equal(await onlyOn.next(), { new_val: { id: 1, on: true } });
  assert.equal(await point.next(), { new_val: { id: 2, on: false } });
  await tbl('feed2').get(2).update({ on: true }).run(conn);
  await tbl('feed2').get(1).update({ on: false }).run(conn);
  assert.equal(await onlyOn.next(), { new_val: { id: 2, on: true }, old_val: null });
  assert.equal(await onlyOn.next(), { new_val: null, old_val: { id: 1, on: true } });
  assert.equal(await point.next(), { new_val: { id: 2, on: true }, old_val: { id: 2, on: false } });
  await onlyOn.close();
  await point.close();
});

test('changefeed options: include_states/include_types, squash, and the queue size limit', async () => {
  await r.db(DB).tableCreate('feed3').run(conn);
  await tbl('feed3').insert({ id: 1 }).run(conn);
  const typed = await tbl('feed3').changes({ includeInitial: true, includeStates: true, includeTypes: true }).run(conn);
  assert.equal(await typed.next(), { state: 'initializing', type: 'state' });
  assert.equal(await typed.next(), { new_val: { id: 1 }, type: 'initial' });
  assert.equal(await typed.next(), { state: 'ready', type: 'state' });
  await tbl('feed3').get(1).delete().run(conn);
  assert.equal(await typed.next(), { new_val: null, old_val: { id: 1 }, type: 'remove' });
  await typed.close();

  const squashed = await tbl('feed3').changes({ squash: true }).run(conn);
  await tbl('feed3').insert({ id: 2, v: 1 }).run(conn);
  await tbl('feed3').get(2).update({ v: 2 }).run(conn);
  await tbl('feed3').get(2).update({ v: 3 }).run(conn);
  assert.equal(await squashed.next(), { new_val: { id: 2, v: 3 }, old_val: null });
  await squashed.close();

  // Past changefeed_queue_size waiting changes, the queue is dropped and the client is told how many were skipped.
  const small = await tbl('feed3').changes({ changefeedQueueSize: 2 }).run(conn);
  await tbl('feed3').insert([{ id: 10 }, { id: 11 }, { id: 12 }, { id: 13 }, { id: 14 }]).run(conn);
  assert.equal(await small.next(), { error: 'Changefeed cache over array size limit, skipped 3 elements.' });
  // The rows of one insert are written in no particular order (per hash shard), so which two remain varies.
  const rest = [await small.next(), await small.next()].map((ch) => (ch as { new_val: { id: number } }).new_val.id);
  assert.is(new Set(rest).size, 2);
  assert.ok(rest.every((id) => id >= 10 && id <= 14), String(rest));
  await small.close();
});

test('errors: missing table and database, unknown term, unknown token', async () => {
  const table = await failure(tbl('nope').run(conn));
  assert.is(table.name, 'ReqlOpFailedError');
  assert.is(table.msg, `Table \`${DB}.nope\` does not exist.`);
  const db = await failure(r.db(`${DB}_nope`).table('t').run(conn));
  assert.is(db.name, 'ReqlOpFailedError');
  assert.is(db.msg, `Database \`${DB}_nope\` does not exist.`);
  const raw = await RawClient.open(target);
  try {
    const missing = await raw.query(token(1), [1, [15, [[14, [DB]], 'nope']]]);
    assert.is(missing.t, 18);
    assert.is(missing.e, 4100000);
    assert.equal(missing.r, [`Table \`${DB}.nope\` does not exist.`]);
    assert.ok(Array.isArray(missing.b));
    const unknown = await raw.query(token(2), [1, [9999, []]]);
    assert.is(unknown.t, 17);
    assert.equal(unknown.r, ['Unrecognized TermType: 9999.']);
    const arity = await raw.query(token(3), [1, [16, [[15, [[14, [DB]], 'people']]]]]);
    assert.is(arity.t, 17);
    assert.equal(arity.r, ['Expected 2 arguments but found 1.']);
    const cont = await raw.query(token(77), [2]);
    assert.is(cont.t, 16);
    assert.equal(cont.r, ['Token 77 not in stream cache.']);
    const bad = await raw.query(token(4), [7, [1]]);
    assert.is(bad.t, 16);
    assert.equal(bad.r, ['Server could not parse query: Unrecognized QueryType: 7.']);
  } finally {
    raw.close();
  }
});

test('protocol: tokens echoed, overlapping queries, noreply, cursor batches, STOP', async () => {
  const raw = await RawClient.open(target);
  try {
    const high = Buffer.from([1, 2, 3, 4, 5, 6, 7, 0x7f]);
    assert.equal(await raw.query(high, [1, [24, [1, 2]]]), { t: 1, r: [3] });
    // A feed holds its CONTINUE while other queries on the connection are answered.
    const feedToken = token(10);
    const first = await raw.query(feedToken, [1, [152, [[15, [[14, [DB]], 'people']]]]]);
    assert.equal(first, { t: 3, r: [], n: [1] });
    raw.send(feedToken, '[2]');
    const held = raw.response(feedToken);
    assert.equal(await raw.query(token(11), [1, [43, [[15, [[14, [DB]], 'people']]]]]), { t: 1, r: [5] });
    raw.send(token(12), JSON.stringify([1, [56, [[15, [[14, [DB]], 'people']], { id: 6, name: 'Fay' }]], { noreply: true }]));
    assert.equal(await raw.query(token(13), [4]), { t: 4, r: [] });
    assert.equal(await held, { t: 3, r: [{ new_val: { id: 6, name: 'Fay' }, old_val: null }], n: [1] });
    raw.send(feedToken, '[3]');
    assert.is((await raw.response(feedToken)).t, 2);
    // A read of ~1.2 MB comes in batches (the first about a quarter of the 1 MiB batch size): SUCCESS_PARTIAL
    // until the last one, which is SUCCESS_SEQUENCE.
    const filler = 'x'.repeat(1000);
    await raw.query(token(19), [1, [56, [[15, [[14, [DB]], 'people']], [2, Array.from({ length: 1200 }, (_, i) => ({ id: 100 + i, filler }))]]]]);
    const cursor = token(20);
    const rows: unknown[] = [];
    let res = await raw.query(cursor, [1, [15, [[14, [DB]], 'people']]]);
    const types = [res.t];
    rows.push(...res.r);
    while (res.t === 3) {
      res = await raw.query(cursor, [2]);
      types.push(res.t);
      rows.push(...res.r);
    }
    assert.is(rows.length, 1206);
    assert.ok(types.length >= 2, `batches ${types.join(',')}`);
    assert.ok(types.slice(0, -1).every((t) => t === 3) && types[types.length - 1] === 2, `batches ${types.join(',')}`);
    assert.equal(res.n, []);
    await raw.query(token(22), [1, [54, [[182, [[15, [[14, [DB]], 'people']], 100, [181]]]]]]);
    await raw.query(token(21), [1, [54, [[16, [[15, [[14, [DB]], 'people']], 6]]]]]);
  } finally {
    raw.close();
  }
});

if (!REAL_URL) {
  test('test server: kill drops connections (feeds end), restart keeps the data', async () => {
    const c2 = await connect();
    const feed = await tbl('people').changes().run(c2);
    const ended = failure(feed.next());
    await server!.kill();
    assert.match((await ended).msg, /closed/);
    await server!.restart();
    const c3 = await connect();
    assert.is(await tbl('people').count().run(c3), 5);
    await c3.close();
    conn = await connect();
  });
} else {
  console.log('with RETHINKDB_URL: "test server: kill drops connections" is not registered (it kills and restarts the test server)');
}

test.run();

/**
 * Runs the same raw queries against this test server and a real RethinkDB and prints every response that differs
 * (t, e, r, n, b; UUIDs and times normalised). Not part of the test suite: run it by hand when a real server is up.
 *   node dist/test/rethinkdb-server/compare-with-real.js rethinkdb://admin:password@127.0.0.1:28015
 */
import { r, type RDatum } from 'rethinkdb-ts';
import { startRethinkTestServer } from './index.js';
import { RawClient, type RawResponse, type RawTarget, token } from './raw-client.js';

const DB = `cmp_${process.pid}`;
const t = (name: string) => r.db(DB).table(name);
const term = (q: unknown): unknown => (q as { term: unknown }).term;

/** Each case: a label and a query; '[2]' / '[3]' continue / stop the previous START of the same label prefix. */
const cases: [string, unknown][] = [
  ['dbCreate', r.dbCreate(DB)],
  ['dbCreate again', r.dbCreate(DB)],
  ['tableCreate', r.db(DB).tableCreate('p')],
  ['tableCreate pk', r.db(DB).tableCreate('k', { primaryKey: 'key' })],
  ['tableCreate dup', r.db(DB).tableCreate('p')],
  ['tableCreate bad name', r.db(DB).tableCreate('bad name')],
  ['tableList', r.db(DB).tableList()],
  ['insert', t('p').insert([{ id: 1, city: 'Paris', age: 31, tags: ['a', 'b'] }, { id: 2, city: 'Rome', age: 25, tags: ['b'] }, { id: 3, city: 'Paris', age: 22 }])],
  ['insert dup', t('p').insert({ id: 1, x: 1 })],
  ['insert dup always', t('p').insert({ id: 1, x: 1 }, { returnChanges: 'always' })],
  ['insert update', t('p').insert({ id: 1, x: 1 }, { conflict: 'update', returnChanges: true })],
  ['insert non-object', t('p').insert([1, { id: 9 }])],
  ['insert null pk', t('p').insert({ id: null })],
  ['insert object pk', t('p').insert({ id: { a: 1 } })],
  ['insert bad conflict', t('p').insert({ id: 1 }, { conflict: 'nope' as 'error' })],
  ['delete 9', t('p').get(9).delete()],
  ['indexCreate', t('p').indexCreate('city')],
  ['indexCreate compound', t('p').indexCreate('city_age', (x: RDatum) => [x('city'), x('age')])],
  ['indexCreate multi', t('p').indexCreate('tags', { multi: true })],
  ['indexCreate dup', t('p').indexCreate('city')],
  ['indexCreate pk', t('p').indexCreate('id')],
  ['indexCreate nondet', t('p').indexCreate('n', (_x: RDatum) => r.now())],
  ['indexWait', t('p').indexWait()],
  ['indexList', t('p').indexList()],
  ['get', t('p').get(1)],
  ['get missing', t('p').get(99)],
  ['get null', t('p').get(null)],
  ['getAll index', t('p').getAll('Paris', { index: 'city' })],
  ['getAll multi', t('p').getAll('b', { index: 'tags' })],
  ['getAll null', t('p').getAll(null)],
  ['getAll bad index', t('p').getAll(1, { index: 'nope' })],
  ['between compound', t('p').between(['Paris', r.minval], ['Paris', r.maxval], { index: 'city_age' })],
  ['between null', t('p').between(null, 2)],
  ['between bad bound', t('p').between(1, 2, { leftBound: 'x' as 'open' })],
  ['between twice', (t('p').between(1, 5) as unknown as ReturnType<typeof t>).between(1, 2)],
  ['orderBy index desc', t('p').orderBy({ index: r.desc('city_age') })],
  ['orderBy field', t('p').orderBy('age')],
  ['orderBy missing field', t('p').orderBy('x', 'id')],
  ['orderBy after filter', t('p').filter({}).orderBy({ index: 'id' })],
  ['filter object', t('p').filter({ city: 'Paris' })],
  ['filter fn', t('p').filter((x: RDatum) => x('age').gt(24))],
  ['filter missing', t('p').filter((x: RDatum) => x('tags').contains('b'))],
  ['filter default error', t('p').filter((x: RDatum) => x('tags').contains('b'), { default: r.error() })],
  ['count', t('p').count()],
  ['limit', t('p').limit(1)],
  ['limit negative', t('p').limit(-1)],
  ['pluck', t('p').get(1).pluck('city', 'nope')],
  ['without', t('p').get(1).without('tags')],
  ['pluck seq', t('p').pluck('id')],
  ['update', t('p').filter({ city: 'Paris' }).update({ seen: true })],
  ['update unchanged', t('p').get(1).update({ seen: true })],
  ['update missing', t('p').get(42).update({ seen: true })],
  ['update fn', t('p').get(2).update((x: RDatum) => ({ age: x('age').add(1) }), { returnChanges: true })],
  ['update error', t('p').update({ n: r.row('nope') })],
  ['update nondet', t('p').update((_x: RDatum) => ({ n: t('k').count() }))],
  ['update pk', t('p').get(2).update({ id: 7 })],
  ['replace', t('p').get(3).replace({ id: 3, only: true })],
  ['replace no pk', t('p').get(3).replace({ only: true })],
  ['replace pk change', t('p').get(3).replace({ id: 4 })],
  ['replace number', t('p').get(3).replace(5)],
  ['delete', t('p').get(3).delete({ returnChanges: true })],
  ['delete missing', t('p').get(3).delete()],
  ['missing table', t('nope')],
  ['missing db', r.db('nope_nope').table('x')],
  ['bad db name', r.db('a b')],
  ['db result', r.db(DB)],
  ['table result small', t('p')],
  ['expr array', r.expr([1, 2])],
  ['minval out', r.expr([r.minval])],
  ['error', r.error('boom')],
  ['default', r.expr(null).default(1)],
  ['no field', r.expr({ a: 1 })('b')],
  ['null field', r.expr(null)('b')],
  ['type error', r.expr(1).add('a')],
  ['string add', r.expr('a').add('b')],
  ['div zero', r.expr(1).div(0)],
  ['coerce', r.expr('1.5').coerceTo('number')],
  ['coerce bad', r.expr('x').coerceTo('number')],
  ['typeOf table', t('p').typeOf()],
  ['typeOf filter', t('p').filter({}).typeOf()],
  ['typeOf orderBy', t('p').orderBy('id').typeOf()],
  ['typeOf get', t('p').get(1).typeOf()],
  ['eq objects', r.expr({ a: 1, b: 2 }).eq({ b: 2, a: 1 })],
  ['compare types', r.expr([[1], true, null, 1, { a: 1 }, 'a']).orderBy((x: RDatum) => x)],
  ['changes array', (r.expr([1]) as unknown as ReturnType<typeof t>).changes()],
  ['changes limit', t('p').limit(1).changes()],
  ['changes', t('p').changes()],
  ['changes initial', t('p').filter({ city: 'Rome' }).changes({ includeInitial: true, includeStates: true, includeTypes: true })],
  ['changes point', t('p').get(2).changes({ includeInitial: true })],
  ['changes point missing', t('p').get(99).changes({ includeInitial: true })],
  ['wait', t('p').wait()],
  ['wait db', r.db(DB).wait()],
  ['tableCreate replicas 2', r.db(DB).tableCreate('l2', { replicas: 2 })],
  ['tableCreate replicas 0', r.db(DB).tableCreate('l0', { replicas: 0 })],
  ['tableCreate shards 0', r.db(DB).tableCreate('l0', { replicas: 2, shards: 0 })],
  ['tableCreate shards 65', r.db(DB).tableCreate('l0', { shards: 65 })],
  ['tableCreate shards 2', r.db(DB).tableCreate('ls', { replicas: 1, shards: 2 })],
  ['config', t('ls').config()],
  ['config db', r.db(DB).config()],
  ['reconfigure replicas 2', t('ls').reconfigure({ replicas: 2, shards: 1 })],
  ['reconfigure no shards', t('ls').reconfigure({ replicas: 1 })],
  ['reconfigure no replicas', t('ls').reconfigure({ shards: 1 })],
  ['reconfigure not integer', t('ls').reconfigure({ replicas: 1.5, shards: 1 })],
  ['reconfigure shards 1', t('ls').reconfigure({ replicas: 1, shards: 1 })],
  ['config after', t('ls').config()],
  ['tableDrop', r.db(DB).tableDrop('k')],
  ['dbDrop', r.dbDrop(DB)],
];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function normalise(res: RawResponse): string {
  return JSON.stringify(res, (k, v: unknown) => (k === 'epoch_time' ? '<time>' : v)).replace(UUID, '<uuid>');
}

async function runAll(target: RawTarget): Promise<Map<string, string>> {
  const c = await RawClient.open(target);
  const out = new Map<string, string>();
  let n = 1;
  for (const [label, q] of cases) {
    const tok = token(n++);
    const res = await Promise.race([
      c.query(tok, [1, term(q), {}]),
      new Promise<RawResponse>((resolve) => setTimeout(() => resolve({ t: -1, r: ['timeout'] }), 3000)),
    ]);
    out.set(label, normalise(res));
    if (res.t === 3) {
      c.send(tok, '[3]');
      await c.response(tok);
    }
  }
  c.close();
  return out;
}

const url = process.argv[2];
if (!url) throw new Error('usage: compare-with-real <rethinkdb://user:password@host:port>');
const u = new URL(url);
const real: RawTarget = { host: u.hostname, port: Number(u.port || 28015), user: decodeURIComponent(u.username || 'admin'), password: decodeURIComponent(u.password) };
const server = await startRethinkTestServer({ user: real.user, password: real.password });
const ours = await runAll({ ...real, host: '127.0.0.1', port: server.port });
const theirs = await runAll(real);
await server.stop();
let diffs = 0;
if (process.env.SHOW_ALL) for (const [label] of cases) console.log(`${label}: ${ours.get(label)}`);
for (const [label] of cases) {
  if (ours.get(label) === theirs.get(label)) continue;
  diffs++;
  console.log(`--- ${label}\n  real: ${theirs.get(label)}\n  test: ${ours.get(label)}`);
}
console.log(`${cases.length - diffs} of ${cases.length} responses identical`);

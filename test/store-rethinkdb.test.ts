// The RethinkDB store: the shared Store contract plus what only this adapter does (URLs, schema, connections, feeds).
// Runs against the wire-protocol test server, or against a real RethinkDB when RETHINKDB_URL is set.
import { connect, createServer, type Socket } from 'node:net';
import { r } from 'rethinkdb-ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CloudRoutesError } from '../src/core/errors.js';
import { openStore } from '../src/store/open.js';
import { RethinkPool } from '../src/store/rethinkdb-pool.js';
import { RethinkStore } from '../src/store/rethinkdb.js';
import { parseRethinkUrl, serverName, type RethinkServer, type RethinkTarget } from '../src/store/rethinkdb-url.js';
import type { Store } from '../src/store/store.js';
import { memoryLog } from './helpers/memory-log.js';
import { cli } from './helpers/procs.js';
import { blackhole, closedPort } from './helpers/peers.js';
import { monitor, reaction, storeSuite } from './helpers/store-suite.js';
import { startRethinkTestServer } from './rethinkdb-server/index.js';

const PASSWORD = 'pa:ss@w/rd';
const realUrl = process.env.RETHINKDB_URL;
const server = realUrl ? undefined : await startRethinkTestServer({ user: 'admin', password: PASSWORD });
const base: RethinkTarget = realUrl
  ? parseRethinkUrl(realUrl)
  : { servers: [{ host: '127.0.0.1', port: server!.port }], user: 'admin', password: PASSWORD, db: 'cr' };
const admin = new RethinkPool(base, { retryMs: 100 });
await admin.open();

let n = 0;
/** A database name no other test (or test run) uses. */
const freshDb = () => `${base.db}_t${process.pid}_${++n}`;

/** The URL of `db` on the server under test, with `over` replacing parts of it. */
function url(db: string, over: Partial<RethinkTarget> = {}): string {
  const t = { ...base, ...over };
  const auth = `${encodeURIComponent(t.user)}${t.password ? `:${encodeURIComponent(t.password)}` : ''}@`;
  return `rethinkdb://${auth}${t.servers.map(serverName).join(',')}/${db}`;
}

/** Opens an initialised store on a fresh database that is dropped when the store is closed. */
async function freshStore(): Promise<Store> {
  const db = freshDb();
  const store = await openStore(url(db), { init: true });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await admin.run('dropping a test database', r.dbDrop(db));
  };
  return store;
}

async function storeError(fn: () => Promise<unknown>): Promise<CloudRoutesError> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, CloudRoutesError, String(err));
    return err as CloudRoutesError;
  }
  throw new assert.Assertion({ message: 'expected an error', generated: false, operator: 'throws', expects: 'error', actual: 'none' });
}

async function waitFor<T>(fn: () => Promise<T>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms: ${(err as Error).message}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** A TCP forwarder to `target` whose traffic can be frozen: a network cut that sends no reset. */
async function cuttableLink(target: RethinkServer): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const relay = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on('data', (d) => void (frozen || to.write(d)));
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((res) => relay.listen(0, '127.0.0.1', res));
  return {
    port: (relay.address() as { port: number }).port,
    freeze: () => void (frozen = true),
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((res) => relay.close(() => res()));
    },
  };
}

storeSuite('rethinkdb', freshStore);

const urls = suite('rethinkdb:// URLs');

urls('several hosts, default port and user, percent-encoded password', () => {
  assert.equal(parseRethinkUrl('rethinkdb://10.0.0.1,db2.example:29015,[::1]/cloudroutes'), {
    servers: [{ host: '10.0.0.1', port: 28015 }, { host: 'db2.example', port: 29015 }, { host: '::1', port: 28015 }],
    user: 'admin', password: '', db: 'cloudroutes',
  });
  assert.equal(parseRethinkUrl('rethinkdb://cr:p%40ss%3Aw@h:28016/cr_prod'), {
    servers: [{ host: 'h', port: 28016 }], user: 'cr', password: 'p@ss:w', db: 'cr_prod',
  });
  assert.equal(parseRethinkUrl('rethinkdb://bob@h/x').user, 'bob');
});

urls('bad URLs are CR_BAD_SETTING naming CLOUDROUTES_STORE, with an example, never echoing the password', () => {
  const cases: [string, string][] = [
    ['rethinkdb://h:28015', 'database name is missing'],
    ['rethinkdb://h:28015/', 'database name is missing'],
    ['rethinkdb://u:secret@h/a.b', 'database name "a.b"'],
    ['rethinkdb:///db', 'no host'],
    ['rethinkdb://h1,,h2/db', 'empty'],
    ['rethinkdb://h:0/db', 'valid port'],
    ['rethinkdb://h:99999/db', 'valid port'],
    ['rethinkdb://h:/db', 'valid port'],
    ['rethinkdb://u:sec%zzret@h/db', 'percent-encoding'],
  ];
  for (const [spec, why] of cases) {
    let err: unknown;
    try {
      parseRethinkUrl(spec);
    } catch (e) {
      err = e;
    }
    assert.instance(err, CloudRoutesError, spec);
    const e = err as CloudRoutesError;
    assert.is(e.code, 'CR_BAD_SETTING', spec);
    assert.match(e.message, 'CLOUDROUTES_STORE', spec);
    assert.match(e.message, why, spec);
    assert.match(e.message, 'e.g. rethinkdb://', spec);
    assert.not.match(e.message, 'secret', spec);
  }
});

urls.run();

const t = suite('rethinkdb adapter');

t('init twice is fine and keeps the data; opening without init verifies', async () => {
  const db = freshDb();
  const a = await openStore(url(db), { init: true });
  await a.putMonitor(monitor('m1'));
  await a.init();
  await a.close();
  const b = await openStore(url(db), { init: true });
  const c = await openStore(url(db));
  assert.equal(await c.getMonitor('m1'), monitor('m1'));
  await Promise.all([b.close(), c.close()]);
  await admin.run('drop', r.dbDrop(db));
});

t('opening without init names what is missing and says to run "cloudroutes store init"', async () => {
  const db = freshDb();
  const noDb = await storeError(() => openStore(url(db)));
  assert.is(noDb.code, 'CR_STORE');
  assert.match(noDb.message, `database ${db}`);
  assert.match(noDb.message, 'cloudroutes store init');
  await admin.run('create', r.dbCreate(db));
  await admin.run('create', r.db(db).tableCreate('monitors'));
  const noTables = await storeError(() => openStore(url(db)));
  assert.match(noTables.message, 'missing table reactions, table history, table events, table zone_views, table reaction_runs');
  assert.match(noTables.message, 'cloudroutes store init');
  const store = await openStore(url(db), { init: true });
  await admin.run('drop index', r.db(db).table('events').indexDrop('at'));
  const noIndex = await storeError(() => store.verify());
  assert.match(noIndex.message, 'missing index events.at;');
  await store.init();
  await store.verify();
  await admin.run('drop table', r.db(db).tableDrop('monitors'));
  const gone = await storeError(() => store.listMonitors());
  assert.is(gone.code, 'CR_STORE');
  assert.match(gone.message, 'listing monitors');
  assert.match(gone.message, serverName(base.servers[0]!));
  assert.match(gone.message, 'cloudroutes store init');
  await store.close();
  await admin.run('drop', r.dbDrop(db));
});

t('a database set up before signals were shared: store check names the signals table, store init adds it', async () => {
  const db = freshDb();
  const env = { ...process.env, CLOUDROUTES_STORE: url(db), LOG_LEVEL: 'silent' };
  assert.is((await cli(['store', 'init'], env)).code, 0);
  await admin.run('drop table', r.db(db).tableDrop('signals'));
  const check = await cli(['store', 'check'], env);
  assert.is(check.code, 1, check.stdout);
  assert.match(check.stderr, /missing table signals, index signals\.storedAt|missing table signals/);
  assert.match(check.stderr, 'cloudroutes store init');
  const init = await cli(['store', 'init'], env);
  assert.is(init.code, 0, init.stderr);
  assert.is((await cli(['store', 'check'], env)).code, 0);
  const store = await openStore(url(db));
  await store.putSignals([{ monitorId: 'm1', zone: 'eu', at: 1, status: 'healthy' }]);
  assert.equal((await store.signals({})).map((s) => s.monitorId), ['m1']);
  await store.close();
  await admin.run('drop', r.dbDrop(db));
});

t("signals' storedAt is the server's clock, not the writer's (zones with clocks apart still agree on since)", async () => {
  const store = await freshStore();
  const realNow = Date.now;
  const before = realNow();
  Date.now = () => realNow() + 3_600_000;
  try {
    await store.putSignals([{ monitorId: 'm1', zone: 'eu', at: 1, status: 'healthy' }]);
  } finally {
    Date.now = realNow;
  }
  const [s] = await store.signals({});
  assert.ok(s && Number.isInteger(s.storedAt) && s.storedAt >= before - 1000 && s.storedAt <= realNow() + 1000,
    `storedAt ${s?.storedAt} is the server's time, between ${before} and ${realNow()}`);
  await store.close();
});

t('a server that refuses or never answers gives CR_STORE naming host:port within seconds', async () => {
  const port = await closedPort();
  let started = Date.now();
  const refused = await storeError(() => openStore(`rethinkdb://127.0.0.1:${port}/cr`));
  assert.ok(Date.now() - started < 2000, `refused after ${Date.now() - started} ms`);
  assert.is(refused.code, 'CR_STORE');
  assert.match(refused.message, `127.0.0.1:${port}`);
  assert.match(refused.message, 'ECONNREFUSED');
  assert.match(refused.message, 'check that RethinkDB is running');
  const hole = await blackhole();
  try {
    started = Date.now();
    const hung = await storeError(() => openStore(`rethinkdb://127.0.0.1:${hole.port}/cr`));
    assert.ok(Date.now() - started < 7000, `gave up after ${Date.now() - started} ms`);
    assert.match(hung.message, `127.0.0.1:${hole.port}`);
  } finally {
    hole.close();
  }
});

t('with several hosts, one that is down is skipped; all down names each', async () => {
  const port = await closedPort();
  const db = freshDb();
  const store = await openStore(url(db, { servers: [{ host: '127.0.0.1', port }, ...base.servers] }), { init: true });
  await store.putReaction(reaction('r1'));
  assert.equal((await store.listReactions()).map((x) => x.id), ['r1']);
  await store.close();
  await admin.run('drop', r.dbDrop(db));
  const port2 = await closedPort();
  const all = await storeError(() => openStore(`rethinkdb://127.0.0.1:${port},127.0.0.1:${port2}/cr`));
  assert.match(all.message, `127.0.0.1:${port} (`);
  assert.match(all.message, `127.0.0.1:${port2} (`);
});

t('a wrong password is CR_STORE pointing at the credentials', async () => {
  const err = await storeError(() => openStore(url(freshDb(), { password: 'not-the-pw-42' })));
  assert.is(err.code, 'CR_STORE');
  assert.match(err.message, 'user and password in CLOUDROUTES_STORE');
  assert.not.match(err.message, 'not-the-pw-42');
});

t('init creates the secondary indexes that history and events are read through', async () => {
  const store = await freshStore();
  const db = (store as unknown as RethinkStore).target.db;
  assert.equal(await admin.run('list', r.db(db).table('history').indexList()), ['monitor_checkedAt']);
  assert.equal((await admin.run('list', r.db(db).table('events').indexList())).sort(), ['at', 'monitor_at']);
  await store.close();
});

t('a server cut off without a reset: the heartbeat closes the connection, the feed throws, queries fail fast', async () => {
  const link = await cuttableLink(base.servers[0]!);
  const db = freshDb();
  const store = new RethinkStore({ ...base, db, servers: [{ host: '127.0.0.1', port: link.port }] }, { heartbeatMs: 200, connectTimeoutMs: 1000 });
  try {
    await store.connect();
    await store.init();
    const feed = await store.follow();
    const next = feed[Symbol.asyncIterator]().next();
    link.freeze();
    const started = Date.now();
    const err = await storeError(() => next);
    assert.ok(Date.now() - started < 2000, `feed broke after ${Date.now() - started} ms`);
    assert.match(err.message, 'change feed');
    const down = await storeError(() => store.listMonitors());
    assert.match(down.message, 'heartbeat');
  } finally {
    await store.close();
    await link.close();
    await admin.run('drop', r.dbDrop(db));
  }
});

if (server) {
  t('a feed breaks when the server dies: iterating throws CR_STORE; after a restart the store reconnects', async () => {
    const { logger, lines } = memoryLog('info');
    const db = freshDb();
    const store = await openStore(url(db), { init: true, logger });
    const feed = await store.follow();
    const it = feed[Symbol.asyncIterator]();
    await store.putMonitor(monitor('m1'));
    assert.equal((await it.next()).value, [{ kind: 'monitor', id: 'm1' }]);
    const next = it.next();
    await server.kill();
    const err = await storeError(() => next);
    assert.is(err.code, 'CR_STORE');
    assert.match(err.message, 'change feed');
    assert.match(err.message, serverName(base.servers[0]!));
    const down = await storeError(() => store.listMonitors());
    assert.match(down.message, 'no server connected');
    await server.restart();
    await waitFor(() => store.init(), 15_000, 'reconnection');
    const again = await store.follow();
    await store.putReaction(reaction('r9'));
    assert.equal((await again[Symbol.asyncIterator]().next()).value, [{ kind: 'reaction', id: 'r9' }]);
    await again.close();
    await feed.close();
    assert.ok(lines.some((l) => /lost the connection/.test(String(l.msg))), 'logged the lost connection');
    await store.close();
  });
} else {
  console.log('with RETHINKDB_URL: "a feed breaks when the server dies" is not registered (it kills and restarts the test server)');
}

t.after(async () => {
  await admin.close();
  await server?.stop();
});

t.run();

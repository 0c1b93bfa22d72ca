/** The dashboard's session as an attacker meets it: cookies that do not decode, login bodies of the wrong shape, writes from other sites. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisServer } from './helpers/redis-server.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';

const redis = new RedisServer();
let w: WebFixture;
let session = '';
const SITE = { name: 'site', ctype: 'tcp-check', interval: '10s', data: { host: '127.0.0.1', port: 9 } };

test.before(async () => {
  await redis.start();
  w = await startWebFixture(redis.url, {}, { authCooldownMs: 1000 });
  const r = await fetch(`${w.web.url}/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ key: w.key }) });
  assert.is(r.status, 303);
  session = r.headers.getSetCookie()[0]!.split(';')[0]!;
});
test.after(async () => {
  await w.stop();
  await redis.stop();
});

const raw = (path: string, init: RequestInit = {}) => fetch(`${w.web.url}${path}`, { redirect: 'manual', ...init });
const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;
const monitorNames = async () => ((await (await w.call('/api/v1/monitors')).json()) as { name: string }[]).map((m) => m.name);

test('a session cookie that does not decode: 401 from the API, the login page from the dashboard, never 500', async () => {
  for (const cookie of ['cr_session=%E0%A4%A', 'cr_session=%', 'cr_session=%zz%']) {
    const api = await raw('/api/v1/monitors', { headers: { cookie } });
    assert.is(api.status, 401, cookie);
    assert.is(await errorCode(api), 'CR_UNAUTHORIZED');
    const page = await raw('/', { headers: { cookie } });
    assert.is(page.status, 303, cookie);
    assert.is(page.headers.get('location'), '/login?next=%2F&expired=1');
  }
  assert.is((await raw('/?fragment=1', { headers: { cookie: 'cr_session=%E0%A4%A' } })).status, 401);
});

test('a login body of the wrong shape: 400 with the form again, never 500', async () => {
  await new Promise((r) => setTimeout(r, 1100)); // past the cool-down the forged cookies may have started
  const bodies = ['{"key":["a"]}', '{"key":{"a":1}}', '{"key":5}', '5', '"cr_x"', '[]', '[{"key":"a"}]', 'true'];
  for (const body of bodies) {
    const r = await raw('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.is(r.status, 400, body);
    assert.match(await r.text(), /<form method="post" action="\/login">/, `${body}: the form again`);
  }
  const ok = await raw('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: w.readKey }) });
  assert.is(ok.status, 303, 'a JSON login of the right shape still logs in');
});

test('a write with the session cookie from another site, or without an Origin, is refused and changes nothing', async () => {
  const create = (headers: Record<string, string>) =>
    raw('/api/v1/monitors', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json', ...headers }, body: JSON.stringify(SITE) });
  const own = new URL(w.web.url);
  // Origins that parse as URLs, so the comparison itself is what refuses them: the same host on another port, another host,
  // and a host whose name starts with this one's.
  const otherSites = [`http://${own.hostname}:${Number(own.port) + 1}`, 'http://evil.example', `http://${own.hostname}.evil.example:${own.port}`];
  for (const origin of otherSites) assert.is.not(new URL(origin).host, own.host, origin);
  const forged: Record<string, string>[] = [
    { origin: 'https://evil.example' }, { origin: 'null' }, {}, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' },
    { origin: `${w.web.url}.evil.example` }, ...otherSites.map((origin) => ({ origin })),
  ];
  for (const headers of forged) {
    const r = await create(headers);
    assert.is(r.status, 403, JSON.stringify(headers));
    assert.is(await errorCode(r), 'CR_CROSS_ORIGIN');
  }
  assert.equal(await monitorNames(), [], 'no monitor was made');
  // Reads with the cookie need no Origin.
  assert.is((await raw('/api/v1/monitors', { headers: { cookie: session } })).status, 200);
});

test('a write with the session cookie from a page of this site goes through; a Bearer key needs no Origin', async () => {
  const made = await raw('/api/v1/monitors', { method: 'POST', headers: { cookie: session, origin: w.web.url, 'content-type': 'application/json' }, body: JSON.stringify(SITE) });
  assert.is(made.status, 201, await made.clone().text());
  const { id } = (await made.json()) as { id: string };
  const del = (headers: Record<string, string>) => raw(`/api/v1/monitors/${id}`, { method: 'DELETE', headers: { cookie: session, ...headers } });
  assert.is((await del({ origin: 'https://evil.example' })).status, 403);
  assert.equal(await monitorNames(), ['site'], 'a cross-site delete did nothing');

  process.env.CLOUDROUTES_WEB_URL = 'https://cloudroutes.example/';
  try {
    const viaProxy = await raw('/api/v1/monitors', { method: 'POST', headers: { cookie: session, origin: 'https://cloudroutes.example', 'content-type': 'application/json' }, body: JSON.stringify({ ...SITE, name: 'proxied' }) });
    assert.is(viaProxy.status, 201, 'the origin of CLOUDROUTES_WEB_URL counts as this site');
  } finally {
    delete process.env.CLOUDROUTES_WEB_URL;
  }
  assert.is((await del({ 'sec-fetch-site': 'same-origin' })).status, 204, 'no Origin but Sec-Fetch-Site: same-origin');

  const bearer = await w.call('/api/v1/monitors', { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ ...SITE, name: 'by key' }) });
  assert.is(bearer.status, 201, 'a Bearer key is not a browser session');
  assert.equal((await monitorNames()).sort(), ['by key', 'proxied']);
});

test('an Origin of this host and port over the other scheme is another site, whether the scheme is the socket\'s or a trusted proxy\'s', async () => {
  const own = new URL(w.web.url);
  const create = (url: string, name: string, headers: Record<string, string>, cookie = session) =>
    fetch(`${url}/api/v1/monitors`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ ...SITE, name }) });
  // This server is plain HTTP and trusts no proxy: a page of https://host:port is not its own, even if the request claims https.
  const claims: Record<string, string>[] = [{ origin: `https://${own.host}` }, { origin: `https://${own.host}`, 'x-forwarded-proto': 'https' }];
  for (const headers of claims) {
    const r = await create(w.web.url, 'over https', headers);
    assert.is(r.status, 403, JSON.stringify(headers));
    assert.is(await errorCode(r), 'CR_CROSS_ORIGIN');
  }

  // Behind an HTTPS proxy it trusts, the site is https://host:port: a page of http://host:port (anyone on the path writes it) is refused.
  process.env.CLOUDROUTES_TRUST_PROXY = '1';
  const proxied = await startWebFixture(redis.url).finally(() => delete process.env.CLOUDROUTES_TRUST_PROXY);
  try {
    const host = new URL(proxied.web.url).host;
    const cookie = `cr_session=${encodeURIComponent(proxied.key)}`;
    const plain = await create(proxied.web.url, 'from plain http', { origin: `http://${host}`, 'x-forwarded-proto': 'https' }, cookie);
    assert.is(plain.status, 403, 'an http page writing to the https site');
    assert.is(await errorCode(plain), 'CR_CROSS_ORIGIN');
    const secure = await create(proxied.web.url, 'from https', { origin: `https://${host}`, 'x-forwarded-proto': 'https' }, cookie);
    assert.is(secure.status, 201, await secure.clone().text());
    const direct = await create(proxied.web.url, 'direct', { origin: `http://${host}` }, cookie);
    assert.is(direct.status, 201, 'without X-Forwarded-Proto the socket says plain HTTP');
    const names = ((await (await proxied.call('/api/v1/monitors')).json()) as { name: string }[]).map((m) => m.name).sort();
    assert.equal(names, ['direct', 'from https']);
  } finally {
    await proxied.stop();
  }
  assert.not.ok((await monitorNames()).includes('over https'), 'no monitor was made on the plain site');
});

test.run();

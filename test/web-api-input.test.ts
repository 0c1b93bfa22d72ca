import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reaction } from '../src/core/types.js';
import { useWebApi, type ErrorBody } from './helpers/web-api.js';

const w = useWebApi(test);

const send = (method: string, path: string, body: string, type = 'application/json') =>
  w.call(path, { method, headers: { 'content-type': type }, body });

/** Sends `body` and expects 400 with `code` naming `field`. */
async function refused(method: string, path: string, body: unknown, code: string, field: string | undefined, message?: RegExp): Promise<ErrorBody> {
  const res = await send(method, path, typeof body === 'string' ? body : JSON.stringify(body));
  const text = await res.text();
  assert.is(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${text}`);
  const parsed = JSON.parse(text) as ErrorBody;
  assert.is(parsed.error.code, code, text);
  assert.is(parsed.error.field, field, text);
  if (message) assert.match(parsed.error.message, message);
  return parsed;
}

const SITE = { name: 'site', ctype: 'tcp-check', interval: '10s', data: { host: '127.0.0.1', port: 9 } };
const LOG = { name: 'log', rtype: 'log', data: {} };

test('monitor bodies: each bad input is 400 naming the field, and nothing is stored', async () => {
  const path = '/api/v1/monitors';
  await refused('POST', path, '{"name": "site", ', 'CR_BAD_JSON', 'body');
  await refused('POST', path, '', 'CR_BAD_JSON', 'body');
  await refused('POST', path, [SITE], 'CR_BAD_REQUEST', undefined, /must be object/);
  await refused('POST', path, { ...SITE, name: undefined }, 'CR_BAD_REQUEST', 'name', /must have required property 'name'/);
  await refused('POST', path, { ...SITE, data: undefined }, 'CR_BAD_REQUEST', 'data');
  await refused('POST', path, { ...SITE, name: 5 }, 'CR_BAD_REQUEST', 'name', /must be string/);
  await refused('POST', path, { ...SITE, name: '' }, 'CR_BAD_REQUEST', 'name');
  await refused('POST', path, { ...SITE, interval: true }, 'CR_BAD_REQUEST', 'interval');
  await refused('POST', path, { ...SITE, quorum: '2' }, 'CR_BAD_REQUEST', 'quorum', /must be integer/);
  await refused('POST', path, { ...SITE, reactions: 'r-x' }, 'CR_BAD_REQUEST', 'reactions', /must be array/);
  await refused('POST', path, { ...SITE, reactions: [5] }, 'CR_BAD_REQUEST', 'reactions[0]');
  await refused('POST', path, { ...SITE, data: 'x' }, 'CR_BAD_REQUEST', 'data', /must be object/);
  await refused('POST', path, { ...SITE, intreval: '5s' }, 'CR_BAD_REQUEST', 'intreval', /additional properties/);
  await refused('POST', path, { ...SITE, interval: '500ms' }, 'CR_BAD_INTERVAL', 'interval', /at least 1s/);
  await refused('POST', path, { ...SITE, interval: 0.5 }, 'CR_BAD_INTERVAL', 'interval');
  await refused('POST', path, { ...SITE, interval: 'often' }, 'CR_BAD_INTERVAL', 'interval');
  await refused('POST', path, { ...SITE, ctype: 'no-such-check' }, 'CR_MODULE_NOT_FOUND', 'ctype', /"no-such-check" is not installed/);
  await refused('POST', path, { ...SITE, ctype: '../x' }, 'CR_BAD_MODULE_NAME', 'ctype', /not a plain module name/);
  await refused('POST', path, { ...SITE, ctype: '../../../../etc/passwd' }, 'CR_BAD_MODULE_NAME', 'ctype');
  await refused('POST', path, { ...SITE, data: { host: '127.0.0.1', port: 'x' } }, 'CR_BAD_DATA', 'data.port', /data\.port must be/);
  await refused('POST', path, { ...SITE, data: { port: 80 } }, 'CR_BAD_DATA', 'data.host', /data\.host is required/);
  await refused('POST', path, { ...SITE, reactions: ['r-nope'] }, 'CR_NO_SUCH_REACTION', 'reactions', /reaction "r-nope" does not exist/);
  await refused('POST', path, { ...SITE, zones: ['EU!'] }, 'CR_BAD_SETTING', 'zones');
  await refused('POST', path, { ...SITE, zones: ['eu'], quorum: 2 }, 'CR_BAD_SETTING', 'quorum', /at most the number of zones/);
  await refused('POST', path, '{"name":"site","ctype":"tcp-check","interval":"10s","data":{"__proto__":{"polluted":1}}}', 'CR_BAD_JSON', 'body');
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(await w.store.listMonitors(), [], 'nothing reached the store');
});

test('reaction bodies: bad input is 400 naming the field; a secret sent as "(secret)" on create is refused', async () => {
  const path = '/api/v1/reactions';
  await refused('POST', path, { ...LOG, rtype: undefined }, 'CR_BAD_REQUEST', 'rtype');
  await refused('POST', path, { ...LOG, trigger: true }, 'CR_BAD_REQUEST', 'trigger', /must be integer/);
  await refused('POST', path, { ...LOG, trigger: 0 }, 'CR_BAD_REQUEST', 'trigger', /must be >= 1/);
  await refused('POST', path, { ...LOG, once: 'yes' }, 'CR_BAD_REQUEST', 'once');
  await refused('POST', path, { ...LOG, callOn: 'sometimes' }, 'CR_BAD_REQUEST', 'callOn', /allowed values/);
  await refused('POST', path, { ...LOG, frequency: 'soon' }, 'CR_BAD_SETTING', 'frequency');
  await refused('POST', path, { ...LOG, rtype: '../../bin' }, 'CR_BAD_MODULE_NAME', 'rtype');
  await refused('POST', path, { name: 'hook', rtype: 'webhook', data: { url: 3 } }, 'CR_BAD_DATA', 'data.url');
  await refused('POST', path, { name: 'hook', rtype: 'webhook', data: { url: 'http://x/', headers: '(secret)' } }, 'CR_BAD_DATA', 'data.headers', /"\(secret\)"/);
  assert.equal(await w.store.listReactions(), []);
});

test('a PUT is validated like a create and leaves the record as it was when refused', async () => {
  const r = (await (await send('POST', '/api/v1/reactions', JSON.stringify(LOG))).json()) as Reaction;
  await refused('PUT', `/api/v1/reactions/${r.id}`, { ...LOG, trigger: 0 }, 'CR_BAD_REQUEST', 'trigger');
  await refused('PUT', `/api/v1/reactions/${r.id}`, { ...LOG, rtype: 'nope' }, 'CR_MODULE_NOT_FOUND', 'rtype');
  await refused('PUT', `/api/v1/reactions/${r.id}`, { ...LOG, name: 'log', data: undefined }, 'CR_BAD_REQUEST', 'data');
  assert.equal(await w.store.getReaction(r.id), r);
});

test('query strings: bad values are 400 naming the parameter', async () => {
  const m = await (await send('POST', '/api/v1/monitors', JSON.stringify(SITE))).json() as { id: string };
  const get = async (path: string, field: string) => {
    const res = await w.call(path);
    assert.is(res.status, 400, path);
    assert.is(((await res.json()) as ErrorBody).error.field, field, path);
  };
  await get(`/api/v1/monitors/${m.id}/history?limit=0`, 'limit');
  await get(`/api/v1/monitors/${m.id}/history?limit=many`, 'limit');
  await get(`/api/v1/monitors/${m.id}/history?from=yesterday`, 'from');
  await get(`/api/v1/monitors/${m.id}/history?to=2026-13-45T99:00:00Z`, 'to');
  await get(`/api/v1/monitors/${m.id}/history?form=1`, 'form');
  await get('/api/v1/events?limit=-1', 'limit');
  await get('/api/v1/config?format=xml', 'format');
});

test('bodies over 1 MiB are refused with 413, as JSON and as YAML', async () => {
  const big = JSON.stringify({ ...SITE, data: { host: 'x'.repeat(1024 * 1024), port: 9 } });
  const res = await send('POST', '/api/v1/monitors', big);
  assert.is(res.status, 413);
  assert.is(((await res.json()) as ErrorBody).error.code, 'FST_ERR_CTP_BODY_TOO_LARGE');
  const yaml = await send('POST', '/api/v1/config', `monitors: []\nnote: ${'x'.repeat(1024 * 1024)}\n`, 'application/yaml');
  assert.is(yaml.status, 413);
  assert.is((await w.call('/api/v1/monitors')).status, 200, 'the process still answers');
});

test('content types the API does not read are 415; the process keeps answering', async () => {
  const res = await send('POST', '/api/v1/monitors', 'name=site', 'application/x-www-form-urlencoded');
  assert.is(res.status, 415);
  assert.is((await w.call('/api/v1/monitors')).status, 200);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import type { EventRecord, HistoryRecord, Monitor } from '../src/core/types.js';
import { monitor, reaction } from './helpers/store-suite.js';
import { json, useWebApi } from './helpers/web-api.js';

const w = useWebApi(test);
let m: Monitor;
let other: Monitor;

const T0 = Date.parse('2026-01-01T00:00:00Z');

test.before(async () => {
  const add = async (name: string) =>
    (await (await w.call('/api/v1/monitors', { method: 'POST', ...json({ name, ctype: 'tcp-check', interval: 10, data: { host: '127.0.0.1', port: 9 } }) })).json()) as Monitor;
  m = await add('alpha');
  other = await add('beta');
  const history: HistoryRecord[] = [0, 1, 2, 3, 4].map((i) => ({
    id: `default:${i}`, monitorId: m.id, zone: 'default', status: i === 4 ? 'failed' : 'healthy', message: i === 4 ? 'refused' : '', latencyMs: i, checkedAt: T0 + i * 60_000, due: T0 + i * 60_000,
  }));
  await w.store.addHistory([...history, { ...history[0]!, id: 'default:x', monitorId: other.id }]);
  const event = (id: string, monitorId: string, at: number, extra: Partial<EventRecord> = {}): EventRecord => ({
    id, kind: 'status', monitorId, zone: 'default', at, status: 'failed', previousStatus: 'healthy', failcount: 1, message: 'refused', ...extra,
  });
  await w.store.addEvents([
    event('e1', m.id, T0 + 1000), event('e2', m.id, T0 + 2000, { kind: 'reaction', reactionId: 'r-abc', outcome: 'ran' }), event('e3', other.id, T0 + 3000),
  ]);
});

const get = async <T>(path: string): Promise<T> => {
  const res = await w.call(path, { key: w.readKey });
  assert.is(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
};

test("history: a monitor's results newest first, limited, between from and to given as epoch ms or ISO 8601", async () => {
  const all = await get<HistoryRecord[]>(`/api/v1/monitors/${m.id}/history`);
  assert.equal(all.map((h) => h.id), ['default:4', 'default:3', 'default:2', 'default:1', 'default:0']);
  assert.equal(all[0], { id: 'default:4', monitorId: m.id, zone: 'default', status: 'failed', message: 'refused', latencyMs: 4, checkedAt: T0 + 240_000, due: T0 + 240_000 });
  assert.equal((await get<HistoryRecord[]>(`/api/v1/monitors/${m.id}/history?limit=2`)).map((h) => h.id), ['default:4', 'default:3']);
  const iso = await get<HistoryRecord[]>(`/api/v1/monitors/${m.id}/history?from=2026-01-01T00:01:00Z&to=2026-01-01T00:03:00.000Z`);
  assert.equal(iso.map((h) => h.id), ['default:3', 'default:2', 'default:1']);
  const epoch = await get<HistoryRecord[]>(`/api/v1/monitors/${m.id}/history?from=${T0 + 120_000}&to=${T0 + 180_000}`);
  assert.equal(epoch.map((h) => h.id), ['default:3', 'default:2']);
  assert.equal(await get<HistoryRecord[]>(`/api/v1/monitors/${other.id}/history?from=${T0 + 1}`), []);
});

test('events: newest first, of every monitor or of one, limited', async () => {
  assert.equal((await get<EventRecord[]>('/api/v1/events')).map((e) => e.id), ['e3', 'e2', 'e1']);
  const mine = await get<EventRecord[]>(`/api/v1/events?monitorId=${m.id}&limit=1`);
  assert.equal(mine, [{ id: 'e2', kind: 'reaction', monitorId: m.id, zone: 'default', at: T0 + 2000, status: 'failed', previousStatus: 'healthy', failcount: 1, reactionId: 'r-abc', outcome: 'ran', message: 'refused' }]);
  assert.equal(await get<EventRecord[]>('/api/v1/events?monitorId=m-none'), []);
});

test('status: one row per monitor with its live state, the rows of "cloudroutes status --json"', async () => {
  const r = w.redis.client();
  await r.hset(keys('default').state(m.id), { status: 'failed', failcount: '2', lastCheck: String(T0), latencyMs: '7' });
  r.disconnect();
  const rows = await get<Record<string, unknown>[]>('/api/v1/status');
  assert.equal(rows, [
    { id: m.id, name: 'alpha', ctype: 'tcp-check', status: 'failed', failcount: 2, lastCheck: '2026-01-01T00:00:00.000Z', latencyMs: 7 },
    { id: other.id, name: 'beta', ctype: 'tcp-check', status: 'unknown', failcount: 0, lastCheck: null, latencyMs: null },
  ]);
});

/** Every route the server has, as "METHOD /path", read from fastify's own route tree (not from the OpenAPI collector). */
function registeredRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: { depth: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*?)(?:[├└]── )?(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length;
    while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const parent = stack[stack.length - 1]?.path ?? '';
    const path = parent === '/' ? `/${m[2]}` : `${parent}${m[2]}`;
    stack.push({ depth, path });
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

test('stats and incidents: a reaction\'s success rate and time to healthy, a monitor\'s incidents with their timelines and MTTR; unknown ids 404, a bad window 400', async () => {
  const now = Date.now();
  await w.store.putReaction(reaction('r-stats', { kind: 'fix' }));
  await w.store.putMonitor(monitor('m-stats', { reactions: ['r-stats'] }));
  const ev = (id: string, at: number, extra: Partial<EventRecord>): EventRecord => ({
    id, kind: 'status', monitorId: 'm-stats', zone: 'default', at, status: 'failed', previousStatus: 'healthy', failcount: 1, message: '', ...extra,
  });
  await w.store.addEvents([
    ev('s1', now - 60_000, { episode: 2 }), ev('s2', now - 58_000, { kind: 'reaction', reactionId: 'r-stats', outcome: 'ran', episode: 2, tookMs: 1000 }),
    ev('s3', now - 50_000, { status: 'healthy', previousStatus: 'failed', episode: 3 }),
    ev('s4', now - 49_990, { kind: 'reaction', status: 'healthy', reactionId: 'r-stats', outcome: 'fixed', episode: 3, tookMs: 8000 }),
  ]);
  const r = await get<Record<string, any>>('/api/v1/reactions/r-stats/stats');
  assert.equal([r.decisions, r.successRate, r.timeToHealthyMs, r.monitors, r.truncated], [{ ran: 1, fixed: 1 }, 1, { median: 8000, p90: 8000 }, 1, false]);
  const m = await get<Record<string, any>>('/api/v1/monitors/m-stats/stats');
  assert.equal(m.incidents.map((i: Record<string, unknown>) => [i.id, i.detectMs, i.recoverMs, i.decisions]), [['m-stats:default:2', 1000, 10_000, 2]]);
  assert.equal([m.ongoing, m.mttrMs, m.mttdMs], [0, { '7d': 10_000, '30d': 10_000 }, { '7d': 1000, '30d': 1000 }]);
  const page = await get<{ incidents: { timeline: { kind: string; outcome?: string }[] }[] }>('/api/v1/monitors/m-stats/incidents?since=1h');
  assert.equal(page.incidents[0]!.timeline.map((s) => s.outcome ?? s.kind), ['failed', 'ran', 'recovered', 'fixed']);
  assert.equal((await get<{ incidents: unknown[] }>('/api/v1/monitors/m-stats/incidents?since=30s')).incidents, []);
  for (const [path, code] of [['/api/v1/monitors/m-none/stats', 404], ['/api/v1/reactions/r-none/stats', 404], ['/api/v1/monitors/m-none/incidents', 404], ['/api/v1/monitors/m-stats/incidents?since=soon', 400]] as const) {
    assert.is((await w.call(path, { key: w.readKey })).status, code, path);
  }
});

test('openapi.json: every /api/v1 route with its method, parameters, body and answers, and nothing else', async () => {
  const res = await w.call('/api/v1/openapi.json', { key: null });
  assert.is(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, Record<string, any>>>; components: Record<string, any> };
  assert.is(doc.openapi, '3.0.3');
  assert.equal(doc.components.securitySchemes.apiKey, { type: 'http', scheme: 'bearer', description: 'an API key from "cloudroutes apikey create"' });
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
  const registered = registeredRoutes(w.web.app.printRoutes({ commonPrefix: false })).filter((r) => r.includes(' /api/v1/'));
  assert.ok(registered.length >= 14, registered.join('\n'));
  assert.equal(documented.sort(), registered.sort());
  for (const must of ['GET /api/v1/monitors', 'POST /api/v1/monitors', 'PUT /api/v1/monitors/:id', 'DELETE /api/v1/reactions/:id', 'GET /api/v1/monitors/:id/history',
    'GET /api/v1/events', 'GET /api/v1/status', 'GET /api/v1/config', 'POST /api/v1/config', 'GET /api/v1/openapi.json', 'GET /api/v1/modules']) {
    assert.ok(documented.includes(must), must);
  }

  const create = doc.paths['/api/v1/monitors']!.post!;
  assert.equal(create.security, [{ apiKey: [] }]);
  assert.match(create.description, /read-write API key/);
  assert.equal(create.requestBody.content['application/json'].schema.required, ['name', 'ctype', 'interval', 'data']);
  assert.ok(create.responses['201'].content['application/json'].schema.properties.id);
  assert.ok(create.responses['4XX'].content['application/json'].schema.properties.error);
  const history = doc.paths['/api/v1/monitors/{id}/history']!.get!;
  assert.equal(history.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), ['path:id', 'query:from', 'query:to', 'query:limit']);
  assert.equal(doc.paths['/api/v1/reactions/{id}']!.delete!.responses['204'], { description: 'removed' });
  assert.equal(Object.keys(doc.paths['/api/v1/config']!.post!.requestBody.content), ['application/json', 'application/yaml']);
  assert.equal(doc.paths['/api/v1/openapi.json']!.get!.security, [], 'public');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (path !== '/api/v1/openapi.json' && !path.startsWith('/api/v1/webhook')) assert.equal(op.security, [{ apiKey: [] }], `${method} ${path}`);
      // Each API route's schema compiles as OpenAPI wants it: no JSON Schema type lists.
      assert.not.match(JSON.stringify(op), /"type":\[/, `${method} ${path}`);
    }
  }
});

test.run();

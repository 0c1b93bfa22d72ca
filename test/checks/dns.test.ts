import { createSocket, type Socket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { Dnsmasq } from '../helpers/dnsmasq.js';
import { ctx, job } from '../helpers/peers.js';
import { freePort } from '../helpers/redis-server.js';

let mod: CheckModule;
const dns = new Dnsmasq([
  '--host-record=www.test,10.0.0.1',
  '--host-record=pool.test,10.0.0.2',
  '--host-record=pool.test,10.0.0.3',
  '--host-record=v6.test,fd00::5',
  '--mx-host=test,mail.test,10',
  '--mx-host=test,mail2.test,20',
  '--txt-record=txt.test,v=spf1 ,-all',
  '--txt-record=txt.test,verify=abc',
  '--cname=alias.test,www.test',
  '--srv-host=_sip._tcp.test,sip.test,5060,1,5',
]);

test.before(async () => {
  mod = await checkLoader().load('dns');
  await dns.start();
});
test.after(() => dns.stop());

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('dns', data, ms), ctx(ms));
const at = (data: Record<string, unknown>, ms = 5000) => run({ server: dns.server, ...data }, ms);

/** A UDP socket on 127.0.0.1 that reads queries and never answers. */
function silentUdp(): Promise<Socket & { port: number }> {
  const s = createSocket('udp4') as Socket & { port: number };
  s.on('message', () => undefined);
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(Object.assign(s, { port: s.address().port }))));
}

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.name is required']);
  assert.match(validate(f, { name: '' }).join(), 'data.name must have at least 1 characters');
  assert.match(validate(f, { name: 'a b' }).join(), 'data.name must match');
  assert.match(validate(f, { name: 'a.test', recordType: 'ANY' }).join(), 'data.recordType must be one of "A", "AAAA"');
  assert.match(validate(f, { name: 'a.test', server: 'dns.example.com' }).join(), 'data.server must match');
  assert.match(validate(f, { name: 'a.test', expected: ['10.0.0.1', 7] }).join(), 'data.expected[1] must be a string');
  assert.match(validate(f, { name: 'a.test', match: 'some' }).join(), 'data.match must be one of "exact", "includes"');
  assert.match(validate(f, { name: 'a.test', timeoutMs: 0 }).join(), 'data.timeoutMs must be >= 1');
  assert.match(validate(f, { name: 'a.test', port: 53 }).join(), 'data.port is not a known field');
  for (const server of ['10.0.0.53', '10.0.0.53:5353', '[fd00::53]:53', 'fd00::53', '::1']) {
    assert.equal(validate(f, { name: 'a.test', recordType: 'MX', server, expected: ['10 mx.a.test'], match: 'includes', timeoutMs: 500 }), [], server);
  }
});

test('an A answer equal to the expected set, in any order, is healthy with the records and time as metrics', async () => {
  const r = await at({ name: 'pool.test', expected: ['10.0.0.3', '10.0.0.2'] });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, `pool.test A at ${dns.server}: "10.0.0.2", "10.0.0.3"`);
  assert.is(r.metrics!.records, 2);
  assert.ok(r.metrics!.resolveMs! >= 0 && r.metrics!.resolveMs! < 1000);
  assert.is((await at({ name: 'www.test' })).status, 'healthy');
});

test('AAAA addresses compare in any spelling', async () => {
  const r = await at({ name: 'v6.test', recordType: 'AAAA', expected: ['FD00:0:0::5'] });
  assert.is(r.status, 'healthy', r.message);
});

test('MX, SRV, TXT and CNAME records are rendered as documented', async () => {
  const mx = await at({ name: 'test', recordType: 'MX', expected: ['10 mail.test', '20 MAIL2.test.'] });
  assert.is(mx.status, 'healthy', mx.message);
  assert.match(mx.message!, '"10 mail.test"');
  const srv = await at({ name: '_sip._tcp.test', recordType: 'SRV', expected: ['1 5 5060 sip.test'] });
  assert.is(srv.status, 'healthy', srv.message);
  const txt = await at({ name: 'txt.test', recordType: 'TXT', expected: ['verify=abc', 'v=spf1 -all'] });
  assert.is(txt.status, 'healthy', txt.message);
  const cname = await at({ name: 'alias.test', recordType: 'CNAME', expected: ['www.test'] });
  assert.is(cname.status, 'healthy', cname.message);
  const ptr = await at({ name: '10.0.0.1', recordType: 'PTR', expected: ['www.test'] });
  assert.is(ptr.status, 'healthy', ptr.message);
});

test('TXT records compare case-sensitively', async () => {
  const r = await at({ name: 'txt.test', recordType: 'TXT', expected: ['VERIFY=abc'], match: 'includes' });
  assert.is(r.status, 'failed');
});

test('an answer other than expected fails, naming both', async () => {
  const r = await at({ name: 'pool.test', expected: ['10.0.0.2', '10.0.0.9'] });
  assert.is(r.status, 'failed');
  assert.is(r.message, `pool.test A at ${dns.server}: expected ["10.0.0.2", "10.0.0.9"], got ["10.0.0.2", "10.0.0.3"]`);
  assert.is(r.metrics!.records, 2);
  const extra = await at({ name: 'pool.test', expected: ['10.0.0.2'] });
  assert.is(extra.status, 'failed');
});

test('match "includes" allows more records than expected, never fewer', async () => {
  assert.is((await at({ name: 'pool.test', expected: ['10.0.0.2'], match: 'includes' })).status, 'healthy');
  const r = await at({ name: 'test', recordType: 'MX', expected: ['30 mail3.test'], match: 'includes' });
  assert.is(r.status, 'failed');
  assert.match(r.message!, `test MX at ${dns.server}: expected to include ["30 mail3.test"], got [`);
  assert.match(r.message!, '"20 mail2.test"');
  assert.match(r.message!, '"10 mail.test"');
});

test('a name that does not exist fails with NXDOMAIN', async () => {
  const r = await at({ name: 'nope.test' });
  assert.is(r.status, 'failed');
  assert.is(r.message, `nope.test A at ${dns.server}: no such name (NXDOMAIN)`);
  assert.is(r.metrics!.records, 0);
});

test('a name without records of the type fails, naming the type', async () => {
  const r = await at({ name: 'www.test', recordType: 'MX' });
  assert.is(r.status, 'failed');
  assert.is(r.message, `www.test MX at ${dns.server}: no MX records`);
});

test('a name the server will not answer for fails with REFUSED', async () => {
  const r = await at({ name: 'www.example.com' });
  assert.is(r.status, 'failed');
  assert.is(r.message, `www.example.com A at ${dns.server}: the server refused the query (REFUSED)`);
});

test('a port where nothing listens fails at once with connection refused', async () => {
  const port = await freePort();
  const started = Date.now();
  const r = await run({ name: 'www.test', server: `127.0.0.1:${port}` }, 2000);
  assert.is(r.status, 'failed');
  assert.is(r.message, `www.test A at 127.0.0.1:${port}: connection refused (ECONNREFUSED)`);
  assert.ok(Date.now() - started < 1000);
});

test('a server that never answers is cut at the job deadline, and by data.timeoutMs before it', async () => {
  const silent = await silentUdp();
  try {
    let started = Date.now();
    const r = await run({ name: 'www.test', server: `127.0.0.1:${silent.port}` }, 300);
    assert.is(r.status, 'failed');
    assert.match(r.message!, new RegExp(`^www\\.test A at 127\\.0\\.0\\.1:${silent.port}: timed out after \\d+ ms$`));
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    started = Date.now();
    const own = await run({ name: 'www.test', server: `127.0.0.1:${silent.port}`, timeoutMs: 200 }, 5000);
    assert.match(own.message!, 'timed out after');
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  } finally {
    silent.close();
  }
});

test('an already expired signal fails at once', async () => {
  const r = await mod.check(job('dns', { name: 'www.test', server: dns.server }), { signal: AbortSignal.abort(), logger: ctx().logger });
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'timed out');
});

test('a server that stops between checks fails the next check', async () => {
  const own = await new Dnsmasq(['--host-record=gone.test,10.0.0.7']).start();
  try {
    assert.is((await run({ name: 'gone.test', server: own.server })).status, 'healthy');
    await own.stop();
    const r = await run({ name: 'gone.test', server: own.server }, 2000);
    assert.is(r.status, 'failed');
    assert.match(r.message!, /connection refused|timed out/);
  } finally {
    await own.stop();
  }
});

test('data the check cannot use gives unknown, naming the field', async () => {
  const r = await run({ name: 'www.test', server: '127.0.0.1:70000' });
  assert.is(r.status, 'unknown');
  assert.match(r.message!, 'data.server "127.0.0.1:70000"');
  assert.is((await run({ name: '' })).status, 'unknown');
});

test.run();

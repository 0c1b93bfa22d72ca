import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertUsageError, useCli } from './helpers/cli-suite.js';

const FIXTURE_CHECKS = fileURLToPath(new URL('../../test/fixtures/checks', import.meta.url));
const { dir, run } = useCli(test, 'cli-limits', { CLOUDROUTES_CHECKS_PATH: FIXTURE_CHECKS });

const refused = assertUsageError;

const TCP = JSON.stringify({ host: '127.0.0.1', port: 9 });
const monitorAdd = (interval: string, data = TCP, ctype = 'tcp-check') => run('monitor', 'add', '--name', 'm', '--ctype', ctype, '--interval', interval, '--data', data);

test('monitor add and edit refuse intervals and time limits out of the limits with exit status 2', async () => {
  for (const interval of ['1e308', '1e308s', '-1', '0.5', 'NaN', 'Infinity', '8d', '604801']) {
    refused(await monitorAdd(interval), 'CR_BAD_INTERVAL', /at least 1s and at most 7d/);
  }
  refused(await monitorAdd('10s', JSON.stringify({ timeoutMs: 600_001 }), 'free-form'), 'CR_BAD_DATA', /data\.timeoutMs it must be a whole number of milliseconds from 1 to 600000/);
  refused(await monitorAdd('10s', JSON.stringify({ host: '127.0.0.1', port: 9, timeoutMs: -1 })), 'CR_BAD_DATA', /data\.timeoutMs must be >= 1/);
  refused(await run('monitor', 'add', '--name', 'n'.repeat(501), '--ctype', 'tcp-check', '--interval', '10s', '--data', TCP), 'CR_BAD_SETTING', /at most 500 characters/);
  const added = await run('monitor', 'add', '--name', 'weekly', '--ctype', 'free-form', '--interval', '7d', '--data', JSON.stringify({ timeoutMs: 600_000 }), '--json');
  assert.is(added.code, 0, added.stderr);
  const { id } = JSON.parse(added.stdout) as { id: string };
  refused(await run('monitor', 'edit', id, '--interval', '1e308'), 'CR_BAD_INTERVAL', /"1e308"/);
  const shown = JSON.parse((await run('monitor', 'show', id, '--json')).stdout) as { interval: number };
  assert.is(shown.interval, 7 * 86_400, 'saved at the largest interval, and the refused edit changed nothing');
});

test('reaction add refuses out-of-limit frequencies and headers HTTP does not allow, naming the field', async () => {
  const hook = (data: unknown, ...more: string[]) => run('reaction', 'add', '--name', 'h', '--rtype', 'webhook', '--data', JSON.stringify(data), ...more);
  const url = 'http://127.0.0.1:9/hook';
  for (const frequency of ['1e308', '-1', 'Infinity', '31d']) refused(await hook({ url }, '--frequency', frequency), 'CR_BAD_SETTING', /frequency/);
  refused(await hook({ url, headers: { 'X-Foo': 'a\r\nX-Injected: 1' } }), 'CR_BAD_DATA', /data\.headers\.X-Foo is not a valid HTTP header value: it contains a line break/);
  refused(await hook({ url, headers: { 'X Foo': 'a' } }), 'CR_BAD_DATA', /data\.headers\.X Foo is not a valid HTTP header name/);
  refused(await hook({ url: 'http://:80/' }), 'CR_BAD_DATA', /data\.url is not a URL/);
  refused(await hook({ url: 'file:///etc/passwd' }), 'CR_BAD_DATA', /data\.url must be an http:\/\/ or https:\/\/ URL/);
  const list = JSON.parse((await run('reaction', 'list', '--json')).stdout) as unknown[];
  assert.equal(list, [], 'nothing was stored');
});

test('apply refuses a document with a value out of the limits, names the item and field, and changes nothing', async () => {
  const before = (await run('export', '--format', 'json')).stdout;
  const file = join(dir, 'doc.yaml');
  writeFileSync(file, [
    'reactions:',
    '  - { name: page, rtype: webhook, data: { url: "http://127.0.0.1:9/", headers: { X-Foo: "a\\r\\nb" } } }',
    'monitors:',
    '  - { name: fine, ctype: tcp-check, interval: 60, data: { host: 127.0.0.1, port: 9 } }',
    '  - { name: forever, ctype: tcp-check, interval: .inf, data: { host: 127.0.0.1, port: 9 } }',
    '',
  ].join('\n'));
  const r = await run('apply', file);
  refused(r, 'CR_BAD_DOCUMENT', /nothing was changed/);
  assert.match(r.stderr, /reactions\[0\] "page".*data\.headers\.X-Foo/);
  assert.match(r.stderr, /monitors\[1\] "forever".*interval "Infinity" is invalid/);
  assert.is((await run('export', '--format', 'json')).stdout, before, 'the store is as it was');
});

test.run();

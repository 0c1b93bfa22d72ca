// `cloudroutes monitor add` for monitors that are told, not polled: the token is generated and the URL printed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { useCli } from './helpers/cli-suite.js';
import { cli } from './helpers/procs.js';

const { dir, env, run } = useCli(test, 'cli-told', { CLOUDROUTES_WEB_URL: 'https://cr.example.com/', CLOUDROUTES_WEB_PORT: '' });

test('monitor add --ctype heartbeat prints the id, the ping and fail URLs with a generated token', async () => {
  const r = await run('monitor', 'add', '--name', 'nightly backup', '--ctype', 'heartbeat', '--interval', '1d', '--data', '{"grace":3600}');
  assert.is(r.code, 0, r.stderr);
  const [id, ping, fail, ...rest] = r.stdout.trim().split('\n');
  assert.match(id!, /^m-[a-z0-9]{10}$/);
  const m = /^ping +https:\/\/cr\.example\.com\/ping\/(m-[a-z0-9]{10}\.[A-Za-z0-9_-]{32}) +\(GET or POST\)$/.exec(ping!);
  assert.ok(m, ping);
  assert.is(m[1]!.split('.')[0], id, 'the token starts with the monitor id');
  assert.is(fail, `fail   https://cr.example.com/ping/${m[1]}/fail`);
  assert.equal(rest, []);
  const shown = JSON.parse((await run('monitor', 'show', id!, '--json')).stdout) as { data: Record<string, unknown> };
  assert.equal(shown.data, { grace: 3600, token: '(secret)' }, 'stored encrypted, shown masked');
});

test('--json adds token, url and failUrl; without CLOUDROUTES_WEB_URL the URL is the local web port', async () => {
  const r = await cli(['monitor', 'add', '--name', 'cron', '--ctype', 'heartbeat', '--interval', '5m', '--json'], { ...env, CLOUDROUTES_WEB_URL: '', CLOUDROUTES_WEB_PORT: '9090' }, dir);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { id: string; token: string; url: string; failUrl: string };
  assert.match(out.token, new RegExp(`^${out.id}\\.`));
  assert.is(out.url, `http://127.0.0.1:9090/ping/${out.token}`);
  assert.is(out.failUrl, `${out.url}/fail`);
});

test('webhook and datadog-webhook print where to post and the token', async () => {
  const r = await run('monitor', 'add', '--name', 'queue', '--ctype', 'webhook', '--interval', '1m');
  assert.is(r.code, 0, r.stderr);
  const [id, post, token] = r.stdout.trim().split('\n');
  assert.is(post, `post   https://cr.example.com/api/v1/webhook/${id}`);
  assert.match(token!, new RegExp(`^token  ${id}\\.[A-Za-z0-9_-]{32} +\\(header X-CloudRoutes-Token, or \\?token=\\)$`));
  const dd = JSON.parse((await run('monitor', 'add', '--name', 'dd', '--ctype', 'datadog-webhook', '--data', '{"warn":"failed"}', '--json')).stdout) as { id: string; url: string };
  assert.is(dd.url, `https://cr.example.com/api/v1/webhook/${dd.id}/datadog`);
});

test('a given token that does not start with the new monitor\'s id is refused, exit status 2', async () => {
  const r = await run('monitor', 'add', '--name', 'x', '--ctype', 'heartbeat', '--data', '{"token":"my-own-token-of-some-length"}');
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /\[CR_BAD_DATA\].*data\.token must be "m-[a-z0-9]{10}\.<secret>"/);
  const polled = await run('monitor', 'add', '--name', 'tcp', '--ctype', 'tcp-check', '--data', '{"host":"127.0.0.1","port":9}');
  assert.match(polled.stdout.trim(), /^m-[a-z0-9]{10}$/, 'polled monitors print just the id');
});

test.run();

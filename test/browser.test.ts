/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the Procfile processes as real
 * OS processes: log in with an API key, see a monitor healthy, then failed without reloading, open its page.
 * A missing or broken Chromium fails this file; it never skips. DASHBOARD_SCREENSHOT=docs/dashboard.png refreshes the
 * README's picture (otherwise the screenshot goes to a temp dir, so a test run leaves the tree clean).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const CHROMIUM = '/usr/bin/chromium';
const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'cr-browser-'));
const screenshot = process.env.DASHBOARD_SCREENSHOT ?? join(dir, 'dashboard.png');
const redisServer = new RedisServer();
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
let targetCode = 200;
let target: Server;
let targetUrl = '';
let webUrl = '';
let apiKey = '';
let monitorId = '';
let context: BrowserContext;
let page: Page;

const run = async (...args: string[]) => {
  const r = await cli(args, { ...env, LOG_LEVEL: 'silent' });
  assert.is(r.code, 0, `cloudroutes ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
};

/** uvu does not print an error thrown by a hook: say it, then fail the file. */
async function loud(what: string, fn: () => Promise<void>): Promise<void> {
  const t = Date.now();
  try {
    await fn();
  } catch (err) {
    console.error(`browser test: ${what} failed: ${(err as Error).stack ?? String(err)}`);
    throw err;
  }
  if (process.env.TEST_TIMINGS) console.log(`browser test: ${what} ${Date.now() - t} ms`);
}

test.before(() => loud('setup', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get install chromium" (.ci/run does)`);
  await redisServer.start();
  target = createServer((_req, res) => res.writeHead(targetCode).end('shop'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/`;
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${join(dir, 'cr.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: 'ab'.repeat(32),
  });
  await run('store', 'init');
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
  const web = new Proc(['web', '--port', '0'], env).start();
  procs.push(web);
  // Generous: on a busy 2-core CI machine six Node processes can take a while to start.
  await Promise.all(procs.map((p) => p.waitFor(p === web ? '"web listening"' : `"${p.args[0]} ${p.args[0] === 'broker' ? 'listening' : 'started'}"`, 30_000)));
  webUrl = /"url":"(http:\/\/[^"]+)"/.exec(web.output)![1]!;

  apiKey = (JSON.parse(await run('apikey', 'create', '--name', 'on-call', '--read-only', '--json')) as { key: string }).key;
  const log = await run('reaction', 'add', '--name', 'log failure', '--rtype', 'log');
  monitorId = await run('monitor', 'add', '--name', 'shop', '--ctype', 'http-get-statuscode', '--interval', '1s', '--reactions', log,
    '--data', JSON.stringify({ url: targetUrl, codes: ['200'], headers: { authorization: 'Bearer shop-token' } }));

  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1200, height: 700 }, deviceScaleFactor: 1,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
}));

test.after(async () => {
  await context?.close();
  await Promise.all(procs.map((p) => p.kill()));
  target?.close();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`browser test: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
});

const badge = (id: string) => page.locator(`tr[data-monitor="${id}"] td.status .badge`);

test('without a session the dashboard sends the browser to the login form; a key logs it in with a secure cookie', async () => {
  await page.goto(`${webUrl}/`);
  assert.is(new URL(page.url()).pathname, '/login');
  await page.fill('#key', 'cr_not-a-key');
  await page.click('button[type="submit"]');
  assert.is(await page.locator('p.error').textContent(), 'That API key is not valid.');

  await page.fill('#key', apiKey);
  await Promise.all([page.waitForURL(`${webUrl}/`), page.click('button[type="submit"]')]);
  const [cookie] = await context.cookies(webUrl);
  assert.is(cookie?.name, 'cr_session');
  assert.is(cookie?.httpOnly, true);
  assert.is(cookie?.secure, true);
  assert.is(cookie?.sameSite, 'Strict');
  assert.is(await page.evaluate(() => document.cookie), '', 'the key is not readable by scripts');
});

test('the monitor shows healthy, then failed without a reload once the target answers 500', async () => {
  await waitFor(async () => (await badge(monitorId).textContent()) === 'healthy', 20_000, 'the badge to read healthy');
  await page.evaluate(() => Object.assign(window, { keptAcrossRefreshes: true }));
  let navigations = 0;
  page.on('framenavigated', () => navigations++);

  targetCode = 500;
  const flipped = Date.now();
  await waitFor(async () => (await badge(monitorId).textContent()) === 'failed', 20_000, 'the badge to read failed');
  console.log(`browser test: failed shown ${Date.now() - flipped} ms after the target turned 500`);
  assert.is(await page.evaluate(() => (window as unknown as { keptAcrossRefreshes?: boolean }).keptAcrossRefreshes), true, 'same document: no reload');
  assert.is(navigations, 0);
  assert.match(await page.locator(`tr[data-monitor="${monitorId}"] .message`).textContent() ?? '', /500/);
  assert.ok(Number(await page.locator(`tr[data-monitor="${monitorId}"] .failcount`).textContent()) >= 1);
  assert.ok(await page.locator(`tr[data-monitor="${monitorId}"] svg.spark path.spark-line`).count() === 1, 'a latency line');

});

test('the monitor page shows its config without the secret (the key is read-only), its events and its reaction; screenshot', async () => {
  await Promise.all([page.waitForURL(`${webUrl}/monitors/${monitorId}`), page.click(`tr[data-monitor="${monitorId}"] a`)]);
  assert.is(await page.locator('h1').textContent(), 'shop');
  assert.is(await page.locator('.state .badge').textContent(), 'failed');
  const text = await page.locator('main').innerText();
  assert.match(text, /url\s+http/);
  assert.not.match(text, /headers|\(secret\)|enc:v/, 'a read-only key sees nothing of the secret');
  assert.not.match(text, /shop-token/);
  const events = () => page.locator('table.events').innerText();
  assert.match(await events(), /healthy → failed/);
  await waitFor(async () => /reaction log failure\s+ran/.test(await events()), 10_000, 'the reaction run in the events');
  await page.screenshot({ path: screenshot });
  const png = readFileSync(screenshot);
  assert.is(png.subarray(1, 4).toString(), 'PNG');
  assert.is(png.readUInt32BE(16), 1200);
  assert.is(png.readUInt32BE(20), 700);
});

test('the monitor page, too, refreshes itself: the recovery shows without a reload', async () => {
  let navigations = 0;
  page.on('framenavigated', () => navigations++);
  targetCode = 200;
  await waitFor(async () => (await page.locator('.state .badge').textContent()) === 'healthy', 20_000, 'the monitor page to read healthy');
  await waitFor(async () => (await page.locator('table.events').innerText()).includes('failed → healthy'), 10_000, 'the recovery in the events');
  assert.is(navigations, 0);
});

test('logging out ends the session: the next page is the login form', async () => {
  await Promise.all([page.waitForURL(/\/login$/), page.click('form.who button')]);
  assert.equal(await context.cookies(webUrl), []);
  await page.goto(`${webUrl}/reactions`);
  assert.is(new URL(page.url()).pathname, '/login');
});

test.run();

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule, CheckResult } from '../../src/core/types.js';
import { ctx, job, until } from '../helpers/peers.js';

let mod: CheckModule;
const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('ping', data, ms), ctx(ms));

/**
 * A network namespace of this test's own, with only its loopback, so loss and unreachable hosts are real and nothing
 * outside is touched. Replies there are switched off through its own net.ipv4.icmp_echo_ignore_all.
 */
const NETNS = `cr-ping-${process.pid}`;
const dropNetns = (): void => {
  try {
    execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
  } catch {
    // Not there.
  }
};

test.before(async () => {
  mod = await checkLoader().load('ping');
  try {
    execFileSync('ip', ['netns', 'add', NETNS], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`these tests make a network namespace with "ip netns add" (iproute2, run as root): ${(err as Error).message}`);
  }
  process.once('exit', dropNetns);
});
test.after(dropNetns);

const CHILD = `
import { writeFileSync } from 'node:fs';
const { check } = await import(process.env.CR_CHECK);
const ignore = (on) => writeFileSync('/proc/sys/net/ipv4/icmp_echo_ignore_all', on ? '1' : '0');
const after = Number(process.env.CR_SILENT_AFTER_MS);
if (after >= 0) ignore(after === 0);
if (after > 0) setTimeout(() => ignore(true), after);
const ms = Number(process.env.CR_MS);
const job = { monitorId: 'm', name: 'test ping', ctype: 'ping', data: JSON.parse(process.env.CR_DATA), timeoutMs: ms, zone: 'test' };
const r = await check(job, { signal: AbortSignal.timeout(ms), logger: undefined });
process.stdout.write(JSON.stringify(r));
process.exit(0);
`;

interface NetnsRun {
  /** Replies stop this long after the check starts (0: none at all; absent: left as they are). */
  silentAfterMs?: number;
  /** The check's PATH (where it finds ping). */
  path?: string;
}

/** Runs the check in a child process inside the namespace. */
function runInNetns(data: Record<string, unknown>, opts: NetnsRun = {}, ms = 5000): Promise<CheckResult> {
  const checkUrl = new URL('../../checks/ping/index.js', import.meta.url).href;
  const as = opts.path ? ['env', `PATH=${opts.path}`] : [];
  const child = spawn('ip', ['netns', 'exec', NETNS, ...as, process.execPath, '--input-type=module', '-e', CHILD], {
    env: {
      ...process.env,
      CR_CHECK: checkUrl,
      CR_DATA: JSON.stringify(data),
      CR_SILENT_AFTER_MS: String(opts.silentAfterMs ?? -1),
      CR_MS: String(ms),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (err += c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out) as CheckResult);
      } catch {
        reject(new Error(`the check in netns ${NETNS} exited ${code}: ${err || out}`));
      }
    });
  });
}

/** Pids of ping processes whose arguments include `host`. */
function pings(host: string): string[] {
  return readdirSync('/proc').filter((p) => {
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return /^\d+$/.test(p) && args[0] === 'ping' && args.includes(host);
    } catch {
      return false;
    }
  });
}

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.equal(validate(f, {}), ['data.host is required']);
  assert.match(validate(f, { host: '-f' }).join(), 'data.host must match');
  assert.match(validate(f, { host: '--help' }).join(), 'data.host must match');
  assert.match(validate(f, { host: 'a b' }).join(), 'data.host must match');
  assert.match(validate(f, { host: 'h', count: 0 }).join(), 'data.count must be >= 1');
  assert.match(validate(f, { host: 'h', count: 21 }).join(), 'data.count must be <= 20');
  assert.match(validate(f, { host: 'h', intervalMs: 100 }).join(), 'data.intervalMs must be >= 200');
  assert.match(validate(f, { host: 'h', maxLossPercent: 101 }).join(), 'data.maxLossPercent must be <= 100');
  assert.match(validate(f, { host: 'h', rttStatistic: 'min' }).join(), 'data.rttStatistic must be one of "avg", "max"');
  assert.match(validate(f, { host: 'h', ipVersion: 5 }).join(), 'data.ipVersion must be one of 4, 6');
  assert.match(validate(f, { host: 'h', flags: '-f' }).join(), 'data.flags is not a known field');
  for (const host of ['127.0.0.1', '::1', 'db-1.example.com', 'fe80::1%eth0']) {
    assert.equal(validate(f, { host, count: 5, intervalMs: 500, waitMs: 300, maxLossPercent: 20, maxRttMs: 50.5, rttStatistic: 'max', ipVersion: 4, timeoutMs: 5000 }), [], host);
  }
});

test('127.0.0.1 is healthy, with loss and round-trip times as metrics', async () => {
  const r = await run({ host: '127.0.0.1' });
  assert.is(r.status, 'healthy', r.message);
  assert.match(r.message!, /^127\.0\.0\.1: 3 of 3 replies, 0% loss, rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms$/);
  const m = r.metrics!;
  assert.equal([m.lossPercent, m.transmitted, m.received], [0, 3, 3]);
  assert.ok(m.rttMinMs! > 0 && m.rttMinMs! <= m.rttAvgMs! && m.rttAvgMs! <= m.rttMaxMs! && m.rttMaxMs! < 100, JSON.stringify(m));
  assert.is(r.latencyMs, m.rttAvgMs);
});

test('any 127.x address answers; count, intervalMs and ipVersion are passed on', async () => {
  const started = Date.now();
  const r = await run({ host: '127.0.0.2', count: 2, intervalMs: 300, ipVersion: 4 });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.metrics!.transmitted, 2);
  assert.ok(Date.now() - started >= 280, 'the second request waits intervalMs');
  const v6 = await run({ host: '::1', count: 1, ipVersion: 6 });
  assert.is(v6.status, 'healthy', v6.message);
});

test('a round-trip time over maxRttMs fails, naming the time and the limit', async () => {
  const r = await run({ host: '127.0.0.1', count: 2, maxRttMs: 0.0001 });
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^127\.0\.0\.1: rtt avg [\d.]+ ms is over maxRttMs 0\.0001 \(2 of 2 replies, 0% loss, rtt min\/avg\/max /);
  const max = await run({ host: '127.0.0.1', count: 2, maxRttMs: 0.0001, rttStatistic: 'max' });
  assert.match(max.message!, /rtt max [\d.]+ ms is over maxRttMs 0\.0001/);
  assert.is((await run({ host: '127.0.0.1', count: 1, maxRttMs: 1000 })).status, 'healthy');
});

test('a host that never answers fails with 100% loss within the time limit', async () => {
  const started = Date.now();
  const r = await runInNetns({ host: '127.0.0.1', count: 2, waitMs: 300 }, { silentAfterMs: 0 });
  assert.is(r.status, 'failed');
  assert.is(r.message, '127.0.0.1: 0 of 2 replies, 100% loss');
  assert.equal(r.metrics, { lossPercent: 100, transmitted: 2, received: 0 });
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

test('partial loss is measured and judged against maxLossPercent', async () => {
  // Requests at 0, 400, 800 and 1200 ms; replies stop at 600 ms.
  const data = { host: '127.0.0.1', count: 4, intervalMs: 400, waitMs: 300 };
  const strict = await runInNetns(data, { silentAfterMs: 600 });
  assert.is(strict.status, 'failed', strict.message);
  assert.match(strict.message!, /^127\.0\.0\.1: 2 of 4 replies, 50% loss \(maxLossPercent 0\), rtt min\/avg\/max /);
  assert.is(strict.metrics!.lossPercent, 50);
  const tolerant = await runInNetns({ ...data, maxLossPercent: 50 }, { silentAfterMs: 600 });
  assert.is(tolerant.status, 'healthy', tolerant.message);
  assert.equal([tolerant.metrics!.received, tolerant.metrics!.transmitted], [2, 4]);
});

test('an address without a route fails as unreachable', async () => {
  const r = await runInNetns({ host: '10.77.0.1', count: 1 });
  assert.is(r.status, 'failed');
  assert.is(r.message, '10.77.0.1: connect: Network is unreachable');
});

test('a host name that does not resolve fails, naming it', async () => {
  const r = await run({ host: 'no-such-host.invalid', count: 1 }, 15_000);
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^cannot resolve no-such-host\.invalid: /);
});

test('a run longer than the time limit is killed: failed, saying why', async () => {
  const started = Date.now();
  const r = await run({ host: '127.0.0.3', count: 5, intervalMs: 1000, timeoutMs: 500 });
  const took = Date.now() - started;
  assert.is(r.status, 'failed');
  assert.match(r.message!, /^ping 127\.0\.0\.3 timed out after \d+ ms with 1 reply so far \(ping killed\); 5 requests 1000 ms apart and a 1000 ms wait need about 5000 ms, more than the 500 ms limit$/);
  assert.ok(took >= 450 && took < 1500, `took ${took} ms`);
  await until(() => pings('127.0.0.3').length === 0, 1000);
  const cut = await run({ host: '127.0.0.3', count: 5, intervalMs: 1000 }, 300);
  assert.match(cut.message!, /timed out after \d+ ms/);
});

test('ping that may not open an ICMP socket, or is not installed, gives unknown, saying what to do', async () => {
  // The check finds a "ping" that runs, as nobody, a copy of ping without its file capability, in a namespace whose
  // ping_group_range lets no group in. Only ping drops to nobody: the check itself must read this checkout.
  const dir = mkdtempSync(join(tmpdir(), 'cr-ping-'));
  try {
    chmodSync(dir, 0o755);
    copyFileSync('/usr/bin/ping', join(dir, 'ping-copy'));
    writeFileSync(join(dir, 'ping'), `#!/bin/sh\nexec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups ${dir}/ping-copy "$@"\n`, { mode: 0o755 });
    const denied = await runInNetns({ host: '127.0.0.1', count: 1 }, { path: dir });
    assert.is(denied.status, 'unknown', denied.message);
    assert.match(denied.message!, /^ping on this machine may not open an ICMP socket \(.*Operation not permitted.*\): give \/usr\/bin\/ping cap_net_raw /);
    assert.match(denied.message!, 'net.ipv4.ping_group_range');
    rmSync(join(dir, 'ping'));
    const missing = await runInNetns({ host: '127.0.0.1', count: 1 }, { path: dir });
    assert.is(missing.status, 'unknown', missing.message);
    assert.is(missing.message, 'cannot run ping on this machine: it is not installed (install iputils-ping)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a host starting with "-" is never passed to ping', async () => {
  const r = await run({ host: '-c1000' });
  assert.is(r.status, 'unknown');
  assert.match(r.message!, 'data.host "-c1000" must be a host name or IP address not starting with "-"');
});

test.run();

/** Trust on first use under concurrency: a key is trusted only once it is the recorded one, in the zone's Redis and in the data dir file alike. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { FileKnownHosts, knownHostsKey, RedisKnownHosts } from '../../src/core/ssh-known-hosts.js';
import { RedisServer } from '../helpers/redis-server.js';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-known-hosts-races-'));
let worker: Redis;
let person: Redis;

test.before(async () => {
  await server.start();
  worker = server.client();
  person = server.client();
});
test.after(async () => {
  worker.disconnect();
  person.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a key forgotten while a worker meets the host is never trusted unless it is the one recorded", async () => {
  const store = new RedisKnownHosts(worker, 'race');
  const field = 'db.example:22';
  let running = true;
  // Someone keeps recording another key and forgetting it (`known-hosts forget`, another worker) while the worker connects.
  const churn = (async () => {
    while (running) {
      await person.hset(knownHostsKey('race'), field, 'SHA256:other');
      await person.hdel(knownHostsKey('race'), field);
    }
  })();
  const lies: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const met = `SHA256:met-${i}`;
    const r = await store.remember(field, met);
    // `met` is the worker's alone: it can only come back as recorded if this very call recorded it.
    if (r.recorded === met && !r.first) lies.push(met);
  }
  running = false;
  await churn;
  assert.equal(lies, [], `${lies.length} keys were trusted without being recorded`);
});

const CHILD = `
import { FileKnownHosts } from ${JSON.stringify(new URL('../../src/core/ssh-known-hosts.js', import.meta.url).href)};
const [file, me, hosts] = process.argv.slice(2);
const store = new FileKnownHosts(file);
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  const out = {};
  for (let i = 0; i < Number(hosts); i++) out['h' + i + ':22'] = await store.remember('h' + i + ':22', 'SHA256:' + me + '-' + i);
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
});
`;

/** Starts `n` processes that each record its own key for the same `hosts` hosts in `file`, all at once; resolves to what each was told. */
async function rememberInProcesses(file: string, n: number, hosts: number): Promise<Record<string, { recorded: string; first: boolean }>[]> {
  const script = join(dir, 'remember.mjs');
  writeFileSync(script, CHILD);
  const children = Array.from({ length: n }, (_, i) => spawn(process.execPath, [script, file, `p${i}`, String(hosts)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const outputs = children.map((c) => {
    let text = '';
    c.stdout!.on('data', (b: Buffer) => (text += b));
    return { text: () => text, exit: new Promise<number | null>((r) => c.on('exit', r)) };
  });
  try {
    const deadline = Date.now() + 10_000;
    while (!outputs.every((o) => o.text().startsWith('ready\n'))) {
      if (Date.now() > deadline) throw new Error('the processes did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of children) c.stdin!.write('go\n');
    const codes = await Promise.all(outputs.map((o) => o.exit));
    assert.equal(codes, Array(n).fill(0));
    return outputs.map((o) => JSON.parse(o.text().slice('ready\n'.length)));
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

test('`cloudroutes check` processes meeting new hosts at once record one key per host in the data dir file and all trust that one', async () => {
  const file = join(dir, 'data', 'ssh-known-hosts');
  const told = await rememberInProcesses(file, 4, 150);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const inFile = new Map(lines.map((l) => l.split(' ') as [string, string]));
  assert.is(lines.length, 150, 'one line per host');
  assert.is(inFile.size, 150);
  for (const [host, recorded] of inFile) {
    assert.equal(told.map((t) => t[host]!.recorded), Array(4).fill(recorded), `every process trusts the key in the file for ${host}`);
    assert.is(told.filter((t) => t[host]!.first).length, 1, `one process recorded ${host}`);
  }
});

test('a lock file left by a process killed while holding it is taken over after a few seconds, and forget keeps the comments', async () => {
  const file = join(dir, 'stale', 'ssh-known-hosts');
  mkdirSync(join(dir, 'stale'));
  writeFileSync(file, '# the lab machines\nlab:22 SHA256:lab\n');
  writeFileSync(`${file}.lock`, '999999\n');
  const old = new Date(Date.now() - 60_000);
  utimesSync(`${file}.lock`, old, old);
  const store = new FileKnownHosts(file);
  assert.equal(await store.remember('web:22', 'SHA256:web'), { recorded: 'SHA256:web', first: true });
  assert.not.ok(existsSync(`${file}.lock`), 'the lock is released');
  assert.ok(await store.forget('lab:22'));
  assert.is(readFileSync(file, 'utf8'), '# the lab machines\nweb:22 SHA256:web\n');
});

test.run();

/**
 * Bench child: the baseline. One undici process GETs the target as fast as it can for a few
 * seconds, every request on a new connection (its own Client, `reset: true` so it sends
 * `connection: close`), as the http check does, over the same loopback addresses.
 * Prints one JSON line: { requests, errors, seconds, perSec, cpuSec }.
 */
import { Client } from 'undici';
import { targetUrl } from './addresses.js';

const [port, addresses, seconds, concurrency] = process.argv.slice(2).map(Number) as [number, number, number, number];

let requests = 0;
let errors = 0;
let firstError = '';
let next = 0;
const started = performance.now();
const cpu0 = process.cpuUsage();
const deadline = started + seconds * 1000;

async function one(): Promise<void> {
  const url = new URL(targetUrl(next++, addresses, port));
  const client = new Client(url.origin, { pipelining: 0 });
  try {
    const res = await client.request({ path: url.pathname, method: 'GET', reset: true, headers: { 'user-agent': 'CloudRoutes-bench/0.1' } });
    await res.body.dump();
    if (res.statusCode === 200) requests++;
    else errors++;
  } catch (err) {
    errors++;
    firstError ||= (err as Error).message;
  } finally {
    client.destroy().catch(() => undefined);
  }
}

async function loop(): Promise<void> {
  while (performance.now() < deadline) await one();
}

await Promise.all(Array.from({ length: concurrency }, loop));
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({ requests, errors, firstError, seconds: elapsed, perSec: requests / elapsed, cpuSec: (cpu.user + cpu.system) / 1e6 }) + '\n',
);

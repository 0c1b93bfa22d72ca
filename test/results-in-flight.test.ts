/** The sink's flow control: one monitor's results in order, different monitors' side by side, bounded. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ResultsInFlight } from '../src/sink/results-in-flight.js';

const later = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test("one monitor's results are handled in the order read; a slow monitor holds up no other", async () => {
  const inFlight = new ResultsInFlight(10);
  const done: string[] = [];
  const handle = (name: string, ms: number) => async () => {
    await later(ms);
    done.push(name);
  };
  const failed = (err: unknown) => assert.unreachable(String(err));
  inFlight.add('m-slow', Promise.resolve(), handle('slow-1', 200), failed);
  inFlight.add('m-slow', Promise.resolve(), handle('slow-2', 1), failed);
  inFlight.add('m-quick', Promise.resolve(), handle('quick-1', 20), failed);
  inFlight.add('m-quick', Promise.resolve(), handle('quick-2', 1), failed);
  assert.is(inFlight.free(), 6);
  await inFlight.settled();
  assert.equal(done, ['quick-1', 'quick-2', 'slow-1', 'slow-2']);
  assert.is(inFlight.free(), 10);
});

test('the reader waits for room; a failure is reported and frees its place', async () => {
  const inFlight = new ResultsInFlight(2);
  const errors: string[] = [];
  inFlight.add('a', Promise.reject(new Error('not recorded')), async (r) => void (await r), (err) => errors.push((err as Error).message));
  inFlight.add('b', Promise.resolve(), () => later(50), () => undefined);
  let roomAt = 0;
  const started = Date.now();
  await inFlight.room(2).then(() => (roomAt = Date.now() - started));
  assert.ok(roomAt >= 40, `room after ${roomAt} ms, before b was handled`);
  assert.equal(errors, ['not recorded']);
  await inFlight.settled();
});

test.run();

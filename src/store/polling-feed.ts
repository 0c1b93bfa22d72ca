/** A ChangeFeed over a store that can only be polled (the embedded store's change log). */
import type { ChangeFeed, ConfigChange } from './store.js';

/** Calls `poll` every `pollMs` and yields each non-empty batch it returns, until closed. */
export function pollingFeed(poll: () => Promise<ConfigChange[]>, pollMs: number): ChangeFeed {
  let closed = false;
  let wake: (() => void) | undefined;
  async function* batches(): AsyncGenerator<ConfigChange[]> {
    while (!closed) {
      const batch = await poll();
      if (closed) return;
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  const it = batches();
  return {
    [Symbol.asyncIterator]: () => it,
    async close() {
      closed = true;
      wake?.();
    },
  };
}

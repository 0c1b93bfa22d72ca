/**
 * The sink's flow control, in one place: each result's recording script is sent as soon as the result is read (so
 * ioredis pipelines the scripts), results are then handled one at a time in the order read, and at most `capacity`
 * are under way; the reader waits for room before it reads more.
 */
export class ResultsInFlight {
  private chain: Promise<void> = Promise.resolve();
  private count = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly capacity: number) {}

  /** How many more results may be read now. */
  free(): number {
    return this.capacity - this.count;
  }

  /** Resolves when at least `needed` more results may be read. */
  async room(needed = 1): Promise<void> {
    while (this.free() < needed) await new Promise<void>((r) => (this.wake = r));
  }

  /** Queues `handle(recording)` behind the results read before it; `failed` hears of anything either rejects with. */
  add<T>(recording: Promise<T>, handle: (recording: Promise<T>) => Promise<void>, failed: (err: unknown) => void): void {
    recording.catch(() => undefined); // its rejection is handled in turn, by `handle`
    this.count++;
    this.chain = this.chain
      .then(() => handle(recording))
      .catch(failed)
      .finally(() => {
        this.count--;
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
      });
  }

  /** Resolves when every result added so far has been handled. */
  settled(): Promise<void> {
    return this.chain;
  }
}

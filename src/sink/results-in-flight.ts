/**
 * The sink's flow control, in one place: each result's recording script is sent as soon as the result is read (so
 * ioredis pipelines the scripts); the results of one monitor are then handled one at a time in the order read,
 * while different monitors' results are handled side by side (a result's decisions wait on Redis round trips, and
 * one monitor's must never hold up another's); at most `capacity` are under way, and the reader waits for room
 * before it reads more.
 */
export class ResultsInFlight {
  /** The last queued handling of each monitor with results under way. */
  private readonly tails = new Map<string, Promise<void>>();
  private count = 0;
  private wake: (() => void) | undefined;
  private idle: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  /** How many more results may be read now. */
  free(): number {
    return this.capacity - this.count;
  }

  /** Resolves when at least `needed` more results may be read. */
  async room(needed = 1): Promise<void> {
    while (this.free() < needed) await new Promise<void>((r) => (this.wake = r));
  }

  /** Queues `handle(recording)` behind the results of monitor `key` read before it; `failed` hears of anything either rejects with. */
  add<T>(key: string, recording: Promise<T>, handle: (recording: Promise<T>) => Promise<void>, failed: (err: unknown) => void): void {
    recording.catch(() => undefined); // its rejection is handled in turn, by `handle`
    this.count++;
    const tail: Promise<void> = (this.tails.get(key) ?? Promise.resolve())
      .then(() => handle(recording))
      .catch(failed)
      .finally(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
        this.count--;
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
        if (this.count === 0) for (const r of this.idle.splice(0)) r();
      });
    this.tails.set(key, tail);
  }

  /** Resolves when every result added so far has been handled. */
  settled(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }
}

/** A bounded queue in front of one ZeroMQ socket with a single send loop (only one send may wait per socket). */
import type { Logger } from 'pino';

type Wire = string | Buffer | (string | Buffer)[];

interface Sendable {
  send(msg: Wire): Promise<void>;
}

export class SendQueue<T> {
  private items: T[] = [];
  private head = 0;
  private running = false;
  private closed = false;
  private failing = false;
  private idle: (() => void)[] = [];
  /** Items of the send under way (they stay at the head until the socket took them). */
  private sending = 0;

  /**
   * @param capacity most messages held before `push` refuses (the caller decides what a refusal means)
   * @param toWire makes the message from an item at the moment it is sent; undefined drops the item
   * @param sent called with each item the socket took
   * @param maxBatch most items sent as one multipart message (one frame each); 1 sends each item as its own message
   */
  constructor(
    private readonly socket: Sendable, private readonly capacity: number, private readonly logger: Logger, private readonly what: string,
    private readonly toWire: (item: T) => Wire | undefined = (item) => item as Wire,
    private readonly sent?: (item: T) => void,
    private readonly maxBatch = 1,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues a message; returns false when the queue is full. */
  push(msg: T): boolean {
    if (this.closed || this.length >= this.capacity) return false;
    this.items.push(msg);
    if (!this.running) void this.loop();
    return true;
  }

  /** Resolves when everything queued so far has been handed to the socket. */
  /** Removes and returns every item not yet handed to the socket (the one a send is waiting on stays). */
  takeWaiting(): T[] {
    const from = this.head + this.sending;
    if (from >= this.items.length) return [];
    return this.items.splice(from);
  }

  drained(): Promise<void> {
    if (this.length === 0 && !this.running) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  close(): void {
    this.closed = true;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.length > 0 && !this.closed) {
        this.sending = Math.min(this.maxBatch, this.length);
        // Made at each attempt, so a socket with a send timeout gets the items judged again on every retry.
        const taken: T[] = [];
        const frames: Wire[] = [];
        for (let i = this.head; i < this.head + this.sending; i++) {
          const wire = this.toWire(this.items[i]!);
          if (wire === undefined) continue;
          taken.push(this.items[i]!);
          frames.push(wire);
        }
        try {
          if (frames.length > 0) {
            await this.socket.send(this.maxBatch === 1 ? frames[0]! : (frames.flat() as (string | Buffer)[]));
            if (this.sent) for (const item of taken) this.sent(item);
          }
        } catch (err) {
          if (this.closed) break;
          if (!this.failing) this.logger.warn({ err: (err as Error).message, socket: this.what }, 'send failed; retrying');
          this.failing = true;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        if (this.failing) this.logger.info({ socket: this.what }, 'sending again');
        this.failing = false;
        this.head += this.sending;
        this.sending = 0;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
      }
    } finally {
      this.sending = 0;
      this.running = false;
      for (const r of this.idle.splice(0)) r();
    }
  }
}

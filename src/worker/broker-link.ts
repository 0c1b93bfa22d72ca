/**
 * A worker's link to one broker: its DEALER socket and the queue in front of it that carries credit. The broker's
 * credit for the link is `free - (sent - received)`, so each link counts the jobs it received itself.
 */
import { Dealer } from 'zeromq';
import type { Logger } from 'pino';
import { reportRefusal } from '../core/curve-refusal.js';
import { encode, type CreditMessage } from '../core/messages.js';
import { SendQueue } from '../core/send-queue.js';
import { socketOptions, type CurveClient } from '../core/socket-options.js';

export class BrokerLink {
  readonly dealer: Dealer;
  received = 0;
  /** Numbers of this broker's jobs finished since the last credit. */
  private done: number[] = [];
  private readonly credits: SendQueue<string>;

  constructor(readonly endpoint: string, concurrency: number, curve: CurveClient | undefined, logger: Logger) {
    this.dealer = new Dealer({ ...socketOptions(curve), sendHighWaterMark: 1000, receiveHighWaterMark: concurrency * 2, linger: 0 });
    reportRefusal(this.dealer, curve, logger);
    this.dealer.connect(endpoint);
    // Only the newest credit matters: two queued at most.
    this.credits = new SendQueue<string>(this.dealer, 2, logger.child({ broker: endpoint }), 'credit');
  }

  /** A job this broker numbered is finished (its result is in the worker's outbox, or it was refused). */
  finished(number: number | undefined): void {
    if (number !== undefined) this.done.push(number);
  }

  /** Tells the broker how many jobs this worker can take now, and which of its jobs are finished. */
  credit(free: number): void {
    const msg: CreditMessage = { v: 1, type: 'credit', free, received: this.received, ...(this.done.length ? { done: this.done } : {}) };
    // Dropped when two credits already wait (the broker is slow): the numbers go with the next one.
    if (this.credits.push(encode(msg))) this.done = [];
  }

  close(): void {
    this.dealer.close();
    this.credits.close();
  }
}

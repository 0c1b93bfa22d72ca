/**
 * A control's links to the zone's brokers: one PUSH socket per broker, each with its bounded send queue and its log
 * of the slots it handed over. Jobs go to the connected brokers in turn. When a broker's connection drops (the
 * broker died, or ZeroMQ's heartbeat found it unreachable), the jobs still queued for it go to another broker at once,
 * and the slots it was handed and may have held are given to `onBrokerGone`, which settles each of them.
 */
import { Push } from 'zeromq';
import type { Logger } from 'pino';
import { reportRefusal } from '../core/curve-refusal.js';
import { encode, type JobMessage } from '../core/messages.js';
import { SendQueue } from '../core/send-queue.js';
import { HEARTBEAT, socketOptions, type CurveClient } from '../core/socket-options.js';
import { settleWithin } from '../core/time.js';
import { SentLog, type SentSlot } from './sent-log.js';

/** Judges a job as it leaves: undefined drops it (it waited past its interval), else it is stamped and sent. */
export type Stamp = (job: JobMessage) => JobMessage | undefined;

/** Jobs queued together go to the broker as one multipart message of up to this many (one job per frame). */
const JOBS_PER_MESSAGE = 100;

/** A broker found unreachable by the heartbeat was already gone up to a heartbeat's timeout and interval before. */
const LOOKBACK_MS = HEARTBEAT.heartbeatTimeout + HEARTBEAT.heartbeatInterval;

class JobLink {
  readonly push: Push;
  readonly out: SendQueue<JobMessage>;
  readonly sent = new SentLog(LOOKBACK_MS);
  up = false;

  constructor(readonly endpoint: string, curve: CurveClient | undefined, logger: Logger, stamp: Stamp, now: () => number,
    onState: (link: JobLink, up: boolean, at: number) => void) {
    // immediate: no queue inside ZeroMQ for a broker that is not connected, and a send that cannot go out gives up
    // after 200 ms: jobs wait in `out`, where each attempt judges them again.
    this.push = new Push({ ...socketOptions(curve), sendHighWaterMark: 1000, linger: 2000, immediate: true, sendTimeout: 200 });
    reportRefusal(this.push, curve, logger, (type) => {
      if (type === 'handshake') onState(this, true, now());
      else if (type === 'disconnect') onState(this, false, now());
    });
    this.push.connect(endpoint);
    this.out = new SendQueue<JobMessage>(this.push, 50_000, logger.child({ broker: endpoint }), 'jobs', (job) => {
      const stamped = stamp(job);
      return stamped && encode(stamped);
    }, (job) => this.sent.add(job.monitorId, job.due, job.due + job.interval! * 1000, job.timeoutMs ?? 0, now()), JOBS_PER_MESSAGE);
  }
}

export class JobLinks {
  private readonly links: JobLink[];
  private next = 0;

  constructor(endpoints: string[], curve: CurveClient | undefined, private readonly logger: Logger, stamp: Stamp, now: () => number,
    private readonly onBrokerGone: (endpoint: string, slots: SentSlot[], at: number) => void) {
    this.links = endpoints.map((e) => new JobLink(e, curve, logger, stamp, now, (link, up, at) => this.changed(link, up, at)));
  }

  /** Queues a job for the next connected broker (any broker while none is); false when that queue is full. */
  send(job: JobMessage): boolean {
    const up = this.links.filter((l) => l.up);
    const pool = up.length > 0 ? up : this.links;
    const link = pool[this.next++ % pool.length]!;
    return link.out.push(job);
  }

  /** Slots pushed out of the logs by their cap (not counted if their broker then dies). */
  get overflowed(): number {
    return this.links.reduce((n, l) => n + l.sent.overflowed, 0);
  }

  /** Resolves when every queue has been handed to its socket, or after `waitMs`. */
  async drained(waitMs: number): Promise<void> {
    await settleWithin(Promise.all(this.links.map((l) => l.out.drained())), waitMs);
  }

  /** Closes every link; returns how many jobs were still waiting to be sent (their slots end without a result). */
  close(): number {
    let unsent = 0;
    for (const l of this.links) {
      unsent += l.out.length;
      l.out.close();
      l.push.close();
    }
    return unsent;
  }

  private changed(link: JobLink, up: boolean, at: number): void {
    if (link.up === up) return;
    link.up = up;
    if (up) {
      this.logger.info({ broker: link.endpoint }, 'connected to broker');
      return;
    }
    const others = this.links.filter((l) => l.up);
    const waiting = others.length > 0 ? link.out.takeWaiting() : [];
    for (const job of waiting) others[this.next++ % others.length]!.out.push(job);
    const slots = link.sent.takeOpen(at - LOOKBACK_MS);
    this.logger.warn({ broker: link.endpoint, moved: waiting.length, held: slots.length },
      'lost the connection to a broker: its queued jobs go to the other brokers; the slots it may have held are checked for results');
    if (slots.length > 0) this.onBrokerGone(link.endpoint, slots, at);
  }
}

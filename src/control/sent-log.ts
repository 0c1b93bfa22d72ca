/**
 * The jobs a control handed to one broker whose slot the broker may still hold: monitor id, due slot, the end of the
 * slot's interval and the check's timeout, in sending order. When the broker goes away, these are the slots that
 * may have gone with it.
 */
export interface SentSlot {
  monitorId: string;
  due: number;
  /** due + interval: after it the broker no longer runs the job (it expires it, counted). */
  deadline: number;
  timeoutMs: number;
}

export class SentLog {
  private ids: (string | undefined)[];
  private dues: Float64Array;
  private deadlines: Float64Array;
  private timeouts: Float64Array;
  private head = 0;
  private size = 0;
  /** Slots pushed out by the cap before their interval ended (a broker that died then loses them uncounted). */
  overflowed = 0;

  /** @param keepMs how long past its interval a slot is kept (how far back a broker's loss can be found out) */
  constructor(private readonly keepMs: number, private readonly capacity = 250_000) {
    this.ids = new Array(capacity);
    this.dues = new Float64Array(capacity);
    this.deadlines = new Float64Array(capacity);
    this.timeouts = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  add(monitorId: string, due: number, deadline: number, timeoutMs: number, now: number): void {
    this.trim(now - this.keepMs);
    if (this.size === this.capacity) {
      this.overflowed++;
      this.drop();
    }
    const i = (this.head + this.size) % this.capacity;
    this.ids[i] = monitorId;
    this.dues[i] = due;
    this.deadlines[i] = deadline;
    this.timeouts[i] = timeoutMs;
    this.size++;
  }

  /**
   * Removes and returns every slot whose interval had not ended at `at`: the ones a broker gone since `at` may have
   * held. (One the broker expired after `at` was counted by it as well: under overload, a slot can be counted twice.)
   */
  takeOpen(at: number): SentSlot[] {
    const out: SentSlot[] = [];
    while (this.size > 0) {
      const i = this.head;
      if (this.deadlines[i]! > at) out.push({ monitorId: this.ids[i]!, due: this.dues[i]!, deadline: this.deadlines[i]!, timeoutMs: this.timeouts[i]! });
      this.drop();
    }
    return out;
  }

  /** Forgets slots from the oldest while their interval ended before `before` (the broker has settled them: run, or expired and counted). */
  private trim(before: number): void {
    while (this.size > 0 && this.deadlines[this.head]! < before) this.drop();
  }

  private drop(): void {
    this.ids[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }
}

/**
 * Where jobs sent ahead of their due wait to start. Each is started at the tick of a grid nearest its due (so up to
 * half a tick early or late), and all the jobs of one tick start together: their connections, replies and results
 * then share the worker's wakeups instead of costing one each, which is most of a check's cost at low load. The tick
 * follows the rate of jobs, so that a tick holds several of them: 5 ms at a thousand jobs a second and more, at most
 * 40 ms when they are few.
 */
import { MAX_HOLD_MS } from '../core/limits.js';

/** Jobs a tick should hold on average; fewer ticks cost fewer wakeups, longer ticks start checks further from due. */
const JOBS_PER_TICK = 8;
const MIN_TICK_MS = 5;
export const MAX_TICK_MS = 40;
/** The rate is measured over windows of this length. */
const RATE_WINDOW_MS = 1000;

export class StartGrid<T> {
  /** The jobs of each tick (ms, on the zone's clock) and the timer that starts them. */
  private readonly ticks = new Map<number, { jobs: T[]; timer: NodeJS.Timeout }>();
  private held = 0;
  private tickMs = MAX_TICK_MS;
  private windowStart = 0;
  private inWindow = 0;

  /** @param now the zone's clock (due times are on it); @param start runs the jobs of a tick whose time has come */
  constructor(private readonly now: () => number, private readonly start: (jobs: T[]) => void) {}

  /** Jobs waiting for their tick. */
  get size(): number {
    return this.held;
  }

  /** Holds `job` until the tick nearest `due`; returns false when that tick is now or past (start it at once). */
  hold(job: T, due: number): boolean {
    const now = this.now();
    this.count(now);
    const at = Math.min(Math.round(due / this.tickMs) * this.tickMs, now + MAX_HOLD_MS);
    if (at <= now) return false;
    let tick = this.ticks.get(at);
    if (!tick) this.ticks.set(at, (tick = { jobs: [], timer: setTimeout(() => this.fire(at), at - now) }));
    tick.jobs.push(job);
    this.held++;
    return true;
  }

  /** Removes and returns every job still waiting (the worker stops: they start now). */
  takeAll(): T[] {
    const all = [...this.ticks.values()].flatMap(({ jobs, timer }) => {
      clearTimeout(timer);
      return jobs;
    });
    this.ticks.clear();
    this.held = 0;
    return all;
  }

  private fire(at: number): void {
    const tick = this.ticks.get(at);
    this.ticks.delete(at);
    if (!tick) return;
    this.held -= tick.jobs.length;
    this.start(tick.jobs);
  }

  private count(now: number): void {
    this.inWindow++;
    const elapsed = now - this.windowStart;
    if (elapsed < RATE_WINDOW_MS) return;
    const perMs = this.inWindow / elapsed;
    this.tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.round(JOBS_PER_TICK / perMs)));
    this.windowStart = now;
    this.inWindow = 0;
  }
}

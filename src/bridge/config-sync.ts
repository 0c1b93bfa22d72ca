/** Down: monitor, reaction and target configs from the store of record into the zone's Redis and schedule. */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Counters } from '../core/counters.js';
import { keys, type Keys } from '../core/keys.js';
import { monitorRecordError, reactionRecordError, targetRecordError } from '../core/record-check.js';
import { isTold } from '../core/signals.js';
import { runsIn, type Monitor, type Reaction, type Target } from '../core/types.js';
import type { ChangeFeed, ConfigChange, Store } from '../store/store.js';
import type { ToldSet } from './signal-sync.js';
import { Backoff, FailureLog, sleep, unlessAborted } from './support.js';
import { seedStates } from './zone-views.js';

export interface ConfigSyncOptions {
  /** Most monitors or reactions written to Redis in one pipeline. */
  batchSize?: number;
  /** Monitors a full resync reads from the store at a time (default 1000), so it never holds them all. */
  pageSize?: number;
  /** Kept equal to the told monitors applied to this zone, for the signal sync. */
  told?: ToldSet;
}

/** Keeps Redis equal to the store's configuration: open the store's change feed, resync fully, then follow the feed. */
export class ConfigSync {
  private readonly k: Keys;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly failures: FailureLog;
  private readonly backoff = new Backoff(200, 5000);
  private connectedOnce = false;
  private resolveReady!: () => void;
  /** Resolves after the first full resync. */
  readonly ready = new Promise<void>((r) => (this.resolveReady = r));

  constructor(
    private readonly redis: Redis,
    private readonly store: Store,
    private readonly zone: string,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly opts: ConfigSyncOptions = {},
  ) {
    this.k = keys(zone);
    this.failures = new FailureLog(logger, 'config sync', 'check the store of record and Redis are reachable');
    // A Redis that restarted may have lost data, so every reconnection gets a full resync.
    redis.on('ready', () => {
      if (this.connectedOnce) void this.syncNow().catch((err) => this.failures.failed(err, { after: 'Redis reconnection' }));
      this.connectedOnce = true;
    });
  }

  /**
   * Until `signal` aborts: opens the change feed, resyncs, applies the feed's batches; when the
   * feed or a write breaks, backs off and starts over, so nothing changed meanwhile is missed.
   * A step still waiting on Redis when `giveUp` aborts is abandoned.
   */
  async run(signal: AbortSignal, giveUp: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let feed: ChangeFeed | undefined;
      const closeFeed = () => void feed?.close();
      signal.addEventListener('abort', closeFeed);
      try {
        feed = await unlessAborted(this.store.follow(), giveUp);
        await unlessAborted(this.syncNow(), giveUp);
        this.failures.ok();
        this.backoff.reset();
        for await (const batch of feed) {
          if (signal.aborted) break;
          await unlessAborted(this.exclusive(() => this.apply(batch)), giveUp);
          this.failures.ok();
        }
      } catch (err) {
        if (signal.aborted) break;
        this.failures.failed(err);
        await sleep(this.backoff.next(), signal);
      } finally {
        signal.removeEventListener('abort', closeFeed);
        await feed?.close();
      }
    }
  }

  /** Whether the last attempt to resync or apply the change feed failed. */
  get failing(): boolean {
    return this.failures.isFailing;
  }

  /** Full resync now: applies every monitor, reaction and target, removes what the store no longer has. */
  syncNow(): Promise<void> {
    return this.exclusive(() => this.resync());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Pages through the monitors in id order; across pages it keeps only the ids it applied (and the told monitors). */
  private async resync(): Promise<void> {
    const wantedMonitors = new Set<string>();
    const told: Monitor[] = [];
    let seeded = 0;
    const pageSize = this.opts.pageSize ?? 1000;
    for (let after = ''; ;) {
      const page = await this.store.monitorsAfter(after, pageSize);
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      const monitors = page.filter((m) => runsIn(m, this.zone) && this.usable('monitor', m));
      await this.inChunks(monitors, (p, m) => this.queueApplyMonitor(p, m));
      for (const m of monitors) wantedMonitors.add(m.id);
      told.push(...monitors.filter(isTold));
      seeded += await seedStates(this.redis, this.store, this.zone, monitors.map((m) => m.id));
      if (page.length < pageSize) break;
    }
    const reactions = (await this.store.listReactions()).filter((r) => this.usable('reaction', r));
    await this.inChunks(reactions, (p, r) => this.queueApplyReaction(p, r));

    this.opts.told?.reset(told);
    const staleMonitors = await this.staleInRedis(wantedMonitors);
    await this.inChunks(staleMonitors, (p, id) => this.queueRemoveMonitor(p, id));
    const wantedReactions = new Set(reactions.map((r) => r.id));
    const staleReactions: string[] = [];
    await this.eachKeyId(this.k.reaction(''), (id) => {
      if (!wantedReactions.has(id)) staleReactions.push(id);
    });
    await this.inChunks(staleReactions, (p, id) => p.del(this.k.reaction(id)));

    const targets = (await this.store.listTargets()).filter((t) => this.usable('target', t));
    await this.inChunks(targets, (p, t) => this.queueApplyTarget(p, t));
    const wantedTargets = new Set(targets.map((t) => t.name));
    const staleTargets: string[] = [];
    await eachScanned((c) => this.redis.hscan(this.k.targets, c, 'COUNT', 1000), 2, (name) => {
      if (!wantedTargets.has(name)) staleTargets.push(name);
    });
    await this.inChunks(staleTargets, (p, name) => p.hdel(this.k.targets, name));

    this.counters.inc('resyncs');
    this.logger.info(
      {
        monitors: wantedMonitors.size, reactions: reactions.length, targets: targets.length, removedMonitors: staleMonitors,
        removedReactions: staleReactions, removedTargets: staleTargets, statesRestored: seeded,
      },
      'full resync of Redis from the store of record done',
    );
    this.resolveReady();
  }

  /** Applies one batch of changes from the feed. */
  private async apply(changes: ConfigChange[]): Promise<void> {
    const monitorIds = new Set(changes.filter((c) => c.kind === 'monitor').map((c) => c.id));
    const reactionIds = new Set(changes.filter((c) => c.kind === 'reaction').map((c) => c.id));
    const targetNames = new Set(changes.filter((c) => c.kind === 'target').map((c) => c.id));
    // Apply what the store holds now rather than each op, so a burst of edits collapses into one write.
    // A record the store holds but that cannot be run is removed from Redis like a deleted one.
    const monitors = await Promise.all([...monitorIds].map(async (id) => {
      const m = await this.store.getMonitor(id);
      return [id, m && this.usable('monitor', m) ? m : undefined] as const;
    }));
    const reactions = await Promise.all([...reactionIds].map(async (id) => {
      const r = await this.store.getReaction(id);
      return [id, r && this.usable('reaction', r) ? r : undefined] as const;
    }));
    const targets = await Promise.all([...targetNames].map(async (name) => {
      const t = await this.store.getTarget(name);
      return [name, t && this.usable('target', t) ? t : undefined] as const;
    }));
    const p = this.redis.multi();
    // A monitor moved out of this zone is removed here like a deleted one.
    for (const [id, m] of monitors) (m && runsIn(m, this.zone) ? this.queueApplyMonitor(p, m) : this.queueRemoveMonitor(p, id));
    for (const [id, r] of reactions) (r ? this.queueApplyReaction(p, r) : p.del(this.k.reaction(id)));
    // A target without an entry has the default budget, so a removed (or refused) one falls back to it.
    for (const [name, t] of targets) (t ? this.queueApplyTarget(p, t) : p.hdel(this.k.targets, name));
    await execOrThrow(p);
    for (const [id, m] of monitors) this.opts.told?.update(id, m && runsIn(m, this.zone) ? m : undefined);
    this.counters.inc('changes_applied', changes.length);
    for (const [id, m] of monitors) this.logger.info({ monitorId: id, interval: m?.interval }, m ? 'monitor applied to Redis' : 'monitor removed from Redis');
    for (const [id, r] of reactions) this.logger.info({ reactionId: id }, r ? 'reaction applied to Redis' : 'reaction removed from Redis');
    for (const [name, t] of targets) {
      this.logger.info({ target: name, ...(t ? { maxRuns: t.maxRuns, per: t.per } : {}) }, t ? 'target budget applied to Redis' : 'target budget removed from Redis: its reactions have the default budget');
    }
  }

  /**
   * Whether a record read from the store passes the checks it passed when saved (core/record-check); one written
   * there by other means that does not is logged, counted and left out of Redis rather than run or crashed on.
   */
  private usable(kind: 'monitor' | 'reaction' | 'target', record: Monitor | Reaction | Target): boolean {
    const loose = record as unknown as Record<string, unknown>;
    const err = kind === 'monitor' ? monitorRecordError(loose) : kind === 'reaction' ? reactionRecordError(loose) : targetRecordError(loose);
    if (!err) return true;
    this.counters.inc(`${kind}s_refused`);
    const name = String(loose.id ?? loose.name);
    const id = kind === 'monitor' ? { monitorId: name } : kind === 'reaction' ? { reactionId: name } : { target: name };
    const fix = kind === 'target' ? `"cloudroutes target set ${name} --max-runs N --per DURATION"` : `"cloudroutes ${kind} edit ${name}"`;
    this.logger.error({ ...id, code: err.code, field: err.field, err: err.message },
      `${kind} in the store of record is invalid (${err.field}): not applied to Redis; fix it with ${fix} or the API`);
    return false;
  }

  /** A new monitor's first slot is taken from Redis's clock (the zone's one clock), not this machine's. */
  private queueApplyMonitor(p: ChainableCommander, m: Monitor): void {
    const intervalMs = Math.round(m.interval * 1000);
    const offset = Math.floor(Math.random() * intervalMs);
    p.applyMonitor(this.k.monitor(m.id), this.k.intervals, this.k.monitors, this.k.schedule, this.k.state(m.id), m.id, JSON.stringify(m), intervalMs, '', offset);
  }

  private queueRemoveMonitor(p: ChainableCommander, id: string): void {
    p.removeMonitor(this.k.monitor(id), this.k.state(id), this.k.intervals, this.k.schedule, this.k.monitors, this.k.views(id), id);
  }

  private queueApplyReaction(p: ChainableCommander, r: Reaction): void {
    p.set(this.k.reaction(r.id), JSON.stringify(r));
  }

  /** The budget claimReaction-3.lua reads: "<most runs> <window ms>". */
  private queueApplyTarget(p: ChainableCommander, t: Target): void {
    p.hset(this.k.targets, t.name, `${t.maxRuns} ${Math.round(t.per * 1000)}`);
  }

  /** Monitor ids in any of Redis's monitor structures but not in `wanted`; each structure is scanned, never read whole. */
  private async staleInRedis(wanted: Set<string>): Promise<string[]> {
    const stale = new Set<string>();
    const check = (id: string) => {
      if (!wanted.has(id)) stale.add(id);
    };
    await eachScanned((c) => this.redis.sscan(this.k.monitors, c, 'COUNT', 1000), 1, check);
    await eachScanned((c) => this.redis.zscan(this.k.schedule, c, 'COUNT', 1000), 2, check);
    await eachScanned((c) => this.redis.hscan(this.k.intervals, c, 'COUNT', 1000), 2, check);
    await this.eachKeyId(this.k.monitor(''), check);
    return [...stale];
  }

  /** Calls `each` with the id of every key `<prefix><id>`, found with SCAN. */
  private async eachKeyId(prefix: string, each: (id: string) => void): Promise<void> {
    await eachScanned((c) => this.redis.scan(c, 'MATCH', `${prefix}*`, 'COUNT', 1000), 1, (key) => each(key.slice(prefix.length)));
  }

  private async inChunks<T>(items: T[], queue: (p: ChainableCommander, item: T) => void): Promise<void> {
    const chunk = this.opts.batchSize ?? 1000;
    for (let i = 0; i < items.length; i += chunk) {
      const p = this.redis.pipeline();
      for (const item of items.slice(i, i + chunk)) queue(p, item);
      await execOrThrow(p);
    }
  }
}

/** Walks a SCAN-family cursor to its end, calling `each` with every `step`-th item (2: the members or fields of ZSCAN's and HSCAN's pairs). */
async function eachScanned(scan: (cursor: string) => Promise<[string, string[]]>, step: 1 | 2, each: (item: string) => void): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await scan(cursor);
    cursor = next;
    for (let i = 0; i < found.length; i += step) each(found[i]!);
  } while (cursor !== '0');
}

async function execOrThrow(p: ChainableCommander): Promise<void> {
  const results = await p.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}

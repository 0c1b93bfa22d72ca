/** The bridge process: store of record -> Redis (config, schedule) and Redis streams -> store (history, events); zone views and told monitors' signals both ways. */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Settings } from '../core/config.js';
import { Counters } from '../core/counters.js';
import { readBacklog } from '../core/backlog.js';
import { keys } from '../core/keys.js';
import { bridgeMetrics } from '../core/metrics-process.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { ConfigSync } from './config-sync.js';
import { ViewPull } from './zone-views.js';
import { SignalSync, ToldSet } from './signal-sync.js';
import { StoreHealth } from './store-health.js';
import { StreamDrain } from './stream-drain.js';
import { streamWriters } from './stream-writers.js';
import { connectionFactory, sleep } from './support.js';
import { supervise, type LoopEnded } from '../core/main-loop.js';

export interface BridgeOptions {
  settings: Settings;
  logger: Logger;
  /** The store of record; opened from settings.store (and closed on stop) when not given. */
  store?: Store;
  /** Template for the bridge's own connections (it duplicates it); connects to settings.redisUrl when not given. */
  redis?: Redis;
  /** Entries pending this long with a dead consumer are taken over (ms), default 30 000. */
  claimIdleMs?: number;
  /** How long a stream read blocks (ms), default 5000 (a read under way when the bridge stops is given up). */
  blockMs?: number;
  /** Stream entries per batch, default 500. */
  batchSize?: number;
  /** How often other zones' views are read from the store (ms), default 1000. */
  viewPollMs?: number;
  /** How often told monitors' signals are pushed to and pulled from the store (ms), default 500. */
  signalPollMs?: number;
  /** Consumer name in the streams' group, default hostname:pid. */
  consumer?: string;
  /** Registry of this process's /metrics (--metrics-port): store up, entries waiting, last drain, counters. */
  metrics?: Registry;
  /** Called when one of its loops ends while the bridge runs (default: the process's handler, which exits). */
  onLoopEnded?: LoopEnded;
}

export interface Bridge {
  /** Stops reading and following; entries read but not yet stored stay pending for the next start. */
  stop(): Promise<void>;
  /** Full resync of Redis from the store (what `cloudroutes rebuild-redis` runs). */
  syncNow(): Promise<void>;
  /** Resolves after the first full resync. */
  ready: Promise<void>;
  counters: Counters;
}

/** How long the bridge's loops may take to finish their current step when it stops (ms). */
const STOP_GRACE_MS = 1500;

/** Starts the bridge for settings.zone; returns at once, the first resync runs in the background (see `ready`). */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const { settings, logger } = opts;
  // A short lock wait: SQLite blocks the whole process while it waits, and a failed write is retried anyway.
  const store = opts.store ?? (await openStore(settings.store, { busyTimeoutMs: 1000, logger }));
  const k = keys(settings.zone);
  const connect = connectionFactory(settings.redisUrl, logger, opts.redis);
  const conns = [connect('config'), connect('history'), connect('events')] as const;
  const [configConn, historyConn, eventsConn] = conns;
  const counters = new Counters(configConn, k.counters, 'bridge');
  counters.start();

  const consumer = opts.consumer ?? `${hostname()}:${process.pid}`;
  const drainOpts = { consumer, batchSize: opts.batchSize, blockMs: opts.blockMs, claimIdleMs: opts.claimIdleMs, deadLettersMax: settings.backlogMax };
  const told = new ToldSet();
  const sync = new ConfigSync(configConn, store, settings.zone, logger.child({ part: 'config' }), counters, { batchSize: opts.batchSize, told });
  const health = new StoreHealth(configConn, settings.zone);
  const writers = streamWriters(store, settings.zone);
  const history = new StreamDrain(historyConn, k.history, 'history', writers.history, k.deadLetters('history'), health,
    logger.child({ part: 'history' }), counters, drainOpts);
  const views = new ViewPull(configConn, store, settings.zone, logger.child({ part: 'views' }), counters, opts.viewPollMs);
  const signals = new SignalSync(configConn, store, settings.zone, told, logger.child({ part: 'signals' }), counters, opts.signalPollMs);
  const events = new StreamDrain(eventsConn, k.events, 'events', writers.events, k.deadLetters('events'), health,
    logger.child({ part: 'events' }), counters, drainOpts);

  if (opts.metrics) {
    bridgeMetrics(opts.metrics, counters, {
      drains: { history, events },
      configSync: sync,
      waiting: async () => {
        const b = await readBacklog(configConn, settings.zone, 0);
        return { history: b.history.waiting, events: b.events.waiting };
      },
    });
  }

  const abort = new AbortController();
  const giveUp = new AbortController();
  const running = () => !abort.signal.aborted;
  const watch = (name: string, loop: Promise<void>) => supervise('bridge', name, loop, running, logger, opts.onLoopEnded);
  const loops = Promise.all([
    watch('config sync', sync.run(abort.signal, giveUp.signal)), watch('history drain', history.run(abort.signal, giveUp.signal)),
    watch('events drain', events.run(abort.signal, giveUp.signal)), watch('views pull', views.run(abort.signal)),
    watch('signals sync', signals.run(abort.signal, giveUp.signal, sync.ready)),
  ]);
  logger.info({ zone: settings.zone, consumer }, 'bridge started');

  let stopping: Promise<void> | undefined;
  return {
    ready: sync.ready,
    counters,
    syncNow: () => sync.syncNow(),
    stop() {
      stopping ??= (async () => {
        abort.abort();
        // Loops end after their current step (a blocking read is given up at once); one still waiting on a Redis that is down is cut off.
        const grace = setTimeout(() => giveUp.abort(), STOP_GRACE_MS);
        await loops;
        clearTimeout(grace);
        await Promise.race([counters.stop(), sleep(500)]);
        for (const c of conns) c.disconnect();
        if (!opts.store) await store.close();
        logger.info({ zone: settings.zone }, 'bridge stopped');
      })();
      return stopping;
    },
  };
}

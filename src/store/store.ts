/** The store of record: configuration (monitors, reactions, targets) and the history and events drained from Redis. */
import type { Decision, EventKind, EventRecord, HistoryRecord, Monitor, Reaction, Signal, Status, Target } from '../core/types.js';

/** A claim on running `reactionId` for `monitorId` now, decided by the store across zones. */
export interface ReactionClaim {
  monitorId: string;
  reactionId: string;
  now: number;
  frequencyMs: number;
  once: boolean;
  status: Status;
  /** A once-reaction that ran (in any zone) at or after this time does not run again in this episode. */
  episodeStart: number;
  /** The reaction's budget: at most `maxRuns` runs for this monitor within any `perMs` (absent: none). */
  budget?: { maxRuns: number; perMs: number };
  /** The budget every reaction naming target `name` shares, for every monitor. */
  target?: { name: string; maxRuns: number; perMs: number };
}

/** What a claim decided: 'run', or why not (the rule or budget that holds it back). */
export type ClaimVerdict = 'run' | 'once' | 'frequency' | 'budget' | 'target-budget';

/** One zone's latest result for one monitor, shared through the store so other zones can apply a quorum. */
export interface ZoneView {
  monitorId: string;
  zone: string;
  status: Status;
  /** This zone's consecutive failed results. */
  failcount: number;
  /** When the zone checked (epoch ms). */
  at: number;
}

/** A told monitor's signal as one zone's bridge copies it to the store, so every zone of the monitor judges from it. */
export interface MonitorSignal extends Signal {
  monitorId: string;
  /** The zone whose web process received it. */
  zone: string;
}

/** A signal as the store holds it: the latest per monitor. */
/** Zone views with `at` >= since, of one monitor or all, leaving out one zone's own (`otherThan`) when given. */
export interface ZoneViewQuery {
  since?: number;
  monitorId?: string;
  /** Only views of these monitors (with `monitorId` too: of that one if it is among them). */
  monitorIds?: string[];
  otherThan?: string;
}

export interface StoredSignal extends MonitorSignal {
  /** When it was written (epoch ms: the RethinkDB server's clock, or the clock of the machine holding the SQLite file); what `signals({ since })` selects on. */
  storedAt: number;
}

/** A monitor, reaction or target that was created, edited or removed; the reader fetches its current value. */
export interface ConfigChange {
  kind: 'monitor' | 'reaction' | 'target';
  /** The record's id (a target's: its name). */
  id: string;
}

/**
 * Configuration changes in commit order, in batches, from the moment the feed opened.
 * Iterating throws when the feed breaks (the reader then resyncs and follows again);
 * it ends after close().
 */
export interface ChangeFeed extends AsyncIterable<ConfigChange[]> {
  close(): Promise<void>;
}

/** An API key; only a hash of the key itself is stored. */
export interface ApiKey {
  id: string;
  name: string;
  /** SHA-256 of the key, hex. */
  hash: string;
  readOnly: boolean;
  createdAt: number;
}

export interface HistoryQuery {
  monitorId: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  limit?: number;
}

/** One monitor's span to summarise: [from, to] (epoch ms, inclusive, from < to) cut into equal buckets. */
export interface HistorySpan {
  monitorId: string;
  from: number;
  to: number;
  /** Only this zone's results (default: every zone, each summarised apart). */
  zone?: string;
}

export interface HistoryBucketsQuery {
  /** At most one span per monitor. */
  spans: HistorySpan[];
  /** Buckets per span; a result falls in bucket floor((checkedAt - from) * buckets / (to - from)), the last one also holding `to`. */
  buckets: number;
  /** Ids of records to leave out, such as those the caller already counts from Redis. */
  exclude?: string[];
}

/** What one monitor's results in one zone and one bucket add up to; buckets without results are not returned. */
export interface HistoryBucket {
  monitorId: string;
  zone: string;
  /** 0 is the bucket that starts at the span's `from`. */
  bucket: number;
  checks: number;
  failed: number;
  /** Lowest and highest measured latency; null when no result in the bucket measured one. */
  minMs: number | null;
  maxMs: number | null;
}

export interface EventQuery {
  monitorId?: string;
  /** Only reaction events (decisions) of this reaction. */
  reactionId?: string;
  kind?: EventKind;
  /** Only reaction events with one of these decisions. */
  outcomes?: Decision[];
  /** Events with since <= at <= until (epoch ms, both optional). */
  since?: number;
  until?: number;
  limit?: number;
}

export interface Store {
  /** Creates what the store needs (database, tables, indexes); safe to run again. */
  init(): Promise<void>;
  /** Checks that what init() creates is there; throws CR_STORE naming what is missing and what to run. */
  verify(): Promise<void>;
  close(): Promise<void>;

  putMonitor(m: Monitor): Promise<void>;
  /** Writes `m` over the stored monitor only while its updatedAt is still `updatedAt`; false when it was changed or removed. */
  replaceMonitor(m: Monitor, updatedAt: number): Promise<boolean>;
  getMonitor(id: string): Promise<Monitor | undefined>;
  listMonitors(): Promise<Monitor[]>;
  /** At most `limit` monitors whose id sorts after `after`, by id: a page of a walk over every monitor (start with ''). */
  monitorsAfter(after: string, limit: number): Promise<Monitor[]>;
  /** Returns false when there was no such monitor; its stored signal goes with it. */
  deleteMonitor(id: string): Promise<boolean>;

  putReaction(r: Reaction): Promise<void>;
  /** Writes `r` over the stored reaction only while its updatedAt is still `updatedAt`; false when it was changed or removed. */
  replaceReaction(r: Reaction, updatedAt: number): Promise<boolean>;
  getReaction(id: string): Promise<Reaction | undefined>;
  listReactions(): Promise<Reaction[]>;
  deleteReaction(id: string): Promise<boolean>;

  /** Saves a target's budget (created or replaced, by name). */
  putTarget(t: Target): Promise<void>;
  getTarget(name: string): Promise<Target | undefined>;
  /** Every target, by name. */
  listTargets(): Promise<Target[]>;
  /** Returns false when there was no such target. */
  deleteTarget(name: string): Promise<boolean>;

  /** Opens a feed of configuration changes; every change committed after it resolves is delivered. */
  follow(): Promise<ChangeFeed>;

  /** Writes history records; a record whose id is already stored is left as it is. */
  addHistory(records: HistoryRecord[]): Promise<void>;
  /** Writes events; an event whose id is already stored is left as it is. */
  addEvents(records: EventRecord[]): Promise<void>;
  /** History of one monitor, newest first. */
  history(q: HistoryQuery): Promise<HistoryRecord[]>;
  /** Many monitors' results summarised per zone and time bucket, in one query; in no particular order. */
  historyBuckets(q: HistoryBucketsQuery): Promise<HistoryBucket[]>;
  /** Events, newest first. */
  events(q: EventQuery): Promise<EventRecord[]>;

  /** Saves zones' latest views; for each monitor and zone the view with the newer `at` wins. */
  putZoneViews(views: ZoneView[]): Promise<void>;
  /** Views with `at` >= since (default all), optionally of one monitor or of some, any order. */
  zoneViews(q: ZoneViewQuery): Promise<ZoneView[]>;
  /** Saves told monitors' signals; per monitor the stored signal is replaced only by one with a newer `at`. */
  putSignals(signals: MonitorSignal[]): Promise<void>;
  /** Signals stored (written or replaced) at or after `since` (default all), optionally of one monitor, any order. */
  signals(q: { since?: number; monitorId?: string }): Promise<StoredSignal[]>;
  /**
   * Atomically decides whether a reaction runs now for a monitor, across every zone: it does when it
   * has not run within `frequencyMs`, for a once-reaction not since `episodeStart`, and its budget and its
   * target's budget have a run left; a run that goes ahead is recorded (lastrun = now, and in both budgets).
   * Two zones claiming at once: exactly one gets 'run'.
   */
  claimReaction(claim: ReactionClaim): Promise<ClaimVerdict>;

  putApiKey(key: ApiKey): Promise<void>;
  /** The key whose hash is `hash`, or undefined. */
  apiKeyByHash(hash: string): Promise<ApiKey | undefined>;
  listApiKeys(): Promise<ApiKey[]>;
  /** Returns false when there was no such key. */
  deleteApiKey(id: string): Promise<boolean>;
}

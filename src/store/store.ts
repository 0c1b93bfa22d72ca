/** The store of record: configuration (monitors, reactions) and the history and events drained from Redis. */
import type { EventRecord, HistoryRecord, Monitor, Reaction } from '../core/types.js';

/** A monitor or reaction that was created, edited or removed; the reader fetches its current value. */
export interface ConfigChange {
  kind: 'monitor' | 'reaction';
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

export interface HistoryQuery {
  monitorId: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, inclusive. */
  to?: number;
  limit?: number;
}

export interface EventQuery {
  monitorId?: string;
  limit?: number;
}

export interface Store {
  /** Creates what the store needs (database, tables, indexes); safe to run again. */
  init(): Promise<void>;
  /** Checks that what init() creates is there; throws CR_STORE naming what is missing and what to run. */
  verify(): Promise<void>;
  close(): Promise<void>;

  putMonitor(m: Monitor): Promise<void>;
  getMonitor(id: string): Promise<Monitor | undefined>;
  listMonitors(): Promise<Monitor[]>;
  /** Returns false when there was no such monitor. */
  deleteMonitor(id: string): Promise<boolean>;

  putReaction(r: Reaction): Promise<void>;
  getReaction(id: string): Promise<Reaction | undefined>;
  listReactions(): Promise<Reaction[]>;
  deleteReaction(id: string): Promise<boolean>;

  /** Opens a feed of configuration changes; every change committed after it resolves is delivered. */
  follow(): Promise<ChangeFeed>;

  /** Writes history records; a record whose id is already stored is left as it is. */
  addHistory(records: HistoryRecord[]): Promise<void>;
  /** Writes events; an event whose id is already stored is left as it is. */
  addEvents(records: EventRecord[]): Promise<void>;
  /** History of one monitor, newest first. */
  history(q: HistoryQuery): Promise<HistoryRecord[]>;
  /** Events, newest first. */
  events(q: EventQuery): Promise<EventRecord[]>;
}

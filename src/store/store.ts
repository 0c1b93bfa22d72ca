/** The store of record: configuration (monitors, reactions) and the history and events drained from Redis. */
import type { EventRecord, HistoryRecord, Monitor, Reaction } from '../core/types.js';

/** One configuration change, in the order the store committed it. */
export interface Change {
  seq: number;
  kind: 'monitor' | 'reaction';
  id: string;
  op: 'upsert' | 'delete';
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
  /** Creates what the store needs (tables, indexes); safe to run again. */
  init(): Promise<void>;
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

  /** Configuration changes after `seq`, oldest first (the embedded store's changefeed). */
  changesSince(seq: number, limit?: number): Promise<Change[]>;
  /** The newest change's seq (0 when none). */
  lastChange(): Promise<number>;

  /** Writes history records; a record whose id is already stored is left as it is. */
  addHistory(records: HistoryRecord[]): Promise<void>;
  /** Writes events; an event whose id is already stored is left as it is. */
  addEvents(records: EventRecord[]): Promise<void>;
  /** History of one monitor, newest first. */
  history(q: HistoryQuery): Promise<HistoryRecord[]>;
  /** Events, newest first. */
  events(q: EventQuery): Promise<EventRecord[]>;
}

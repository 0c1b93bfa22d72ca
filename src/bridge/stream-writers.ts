/** What each drained stream becomes in the store of record: how its entries are parsed and how a batch is written. */
import type { EventRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import { toEvent } from './entries.js';
import { latestViews, toHistoryItem, type HistoryItem } from './zone-views.js';

export type DrainedStream = 'history' | 'events';

export interface StreamWriter<R> {
  /** The entry as a record whose id is made of `entryId`; throws BadEntry. */
  parse(entryId: string, fields: Record<string, string>): R;
  /** Writes a batch; writing a record again leaves the stored one as it is. */
  write(records: R[]): Promise<void>;
}

/** The writers of the history and events streams of `zone`. */
export function streamWriters(store: Store, zone: string): { history: StreamWriter<HistoryItem>; events: StreamWriter<EventRecord> } {
  return {
    history: {
      parse: (id, f) => toHistoryItem(zone, id, f),
      async write(items) {
        await store.addHistory(items.map((i) => i.record));
        await store.putZoneViews(latestViews(items));
      },
    },
    events: { parse: (id, f) => toEvent(zone, id, f), write: (records) => store.addEvents(records) },
  };
}

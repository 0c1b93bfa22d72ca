/** Records a batch of check results with one call of recordResults-n.lua (see there for what it writes and returns). */
import type { Redis } from 'ioredis';
import { keys, RESULTS_GROUP } from './keys.js';
import type { RecordedRow } from './redis.js';

export interface ResultToRecord {
  monitorId: string;
  status: string;
  message: string;
  latencyMs: number | null;
  checkedAt: number;
  due: number;
  /** Its entry in the results stream, acknowledged in the same script ('' or absent when it came another way). */
  entryId?: string;
}

export interface Recorded {
  outcome: 'recorded' | 'duplicate' | 'monitor-gone';
  /** The monitor's config JSON when it names reactions, '' otherwise. */
  reactionsJson: string;
  previousStatus: string;
  failcount: number;
  episode: number;
  changed: boolean;
  /** For an earlier slot than the last recorded: in history only. */
  stale: boolean;
  status: string;
  episodeStart: number;
}

export interface RecordOptions {
  /** The store of record is down: the results are marked cache-only. */
  cacheOnly?: boolean;
  /** CLOUDROUTES_BACKLOG_MAX (0: no limit). */
  backlogMax?: number;
}

const OUTCOMES = ['recorded', 'duplicate', 'monitor-gone'] as const;

export async function recordResults(redis: Redis, zone: string, results: readonly ResultToRecord[], o: RecordOptions = {}): Promise<Recorded[]> {
  if (results.length === 0) return [];
  const k = keys(zone);
  const keyList: string[] = [k.history, k.events, k.counters, k.results, k.writtenOff, k.writtenOffWhy];
  const args: (string | number)[] = [zone, o.cacheOnly ? '1' : '', o.backlogMax ?? 0, RESULTS_GROUP];
  for (const r of results) {
    keyList.push(k.state(r.monitorId), k.monitor(r.monitorId), k.views(r.monitorId));
    args.push(r.monitorId, r.status, r.message, r.latencyMs === null ? '' : String(r.latencyMs), r.checkedAt, r.due, r.entryId ?? '');
  }
  const rows = await redis.recordResults(keyList.length, ...keyList, ...args);
  return rows.map((row: RecordedRow) => ({
    outcome: OUTCOMES[row[0]], reactionsJson: row[1], previousStatus: row[2], failcount: Number(row[3]), episode: Number(row[4]),
    changed: row[5] === 1, stale: row[6] === 1, status: row[7], episodeStart: Number(row[8]),
  }));
}

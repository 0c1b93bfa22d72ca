/** Records a batch of check results with one call of recordResults-7.lua (see there for what it writes and returns). */
import type { Redis } from 'ioredis';
import { errors } from './errors.js';
import { keys, RESULTS_GROUP } from './keys.js';
import { tabFields } from './tab-fields.js';

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
  /** CLOUDROUTES_BACKLOG_MAX: most results waiting in the history stream (0: no limit). */
  backlogMax?: number;
}

const OUTCOMES = ['recorded', 'duplicate', 'monitor-gone'] as const;
const GONE: Recorded = {
  outcome: 'monitor-gone', reactionsJson: '', previousStatus: '', failcount: 0, episode: 0, changed: false, stale: false, status: '', episodeStart: 0,
};

/** One row of the script's reply: eight tab-separated fields, then the reactions JSON as the rest (see recordResults-7.lua). */
function parseRow(row: string): Recorded {
  if (row === '2') return GONE;
  const f = tabFields(row, 8);
  if (f.length < 9) throw errors.badScriptReply('recordResults', `a row of ${f.length + 1} fields, 9 expected: ${JSON.stringify(row.slice(0, 200))}`);
  const outcome = OUTCOMES[Number(f[0])];
  if (!outcome) throw errors.badScriptReply('recordResults', `an unknown outcome ${JSON.stringify(f[0])}`);
  return {
    outcome, previousStatus: f[1]!, failcount: Number(f[2]), episode: Number(f[3]), changed: f[4] === '1',
    stale: f[5] === '1', status: f[6]!, episodeStart: Number(f[7]), reactionsJson: f[8]!,
  };
}

export async function recordResults(redis: Redis, zone: string, results: readonly ResultToRecord[], o: RecordOptions = {}): Promise<Recorded[]> {
  if (results.length === 0) return [];
  const k = keys(zone);
  const args: (string | number)[] = [
    k.history, k.events, k.counters, k.results, k.writtenOff, k.writtenOffWhy, k.historyAdded,
    zone, o.cacheOnly ? '1' : '', o.backlogMax ?? 0, RESULTS_GROUP, k.state(''), k.monitor(''), k.views(''),
  ];
  for (const r of results) {
    args.push(r.monitorId, r.status, r.message, r.latencyMs === null ? '' : String(r.latencyMs), r.checkedAt, r.due, r.entryId ?? '');
  }
  return (await redis.recordResults(...args)).map(parseRow);
}

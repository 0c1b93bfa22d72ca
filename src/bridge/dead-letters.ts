/**
 * Entries the store of record refused, set aside in a dead-letter stream per drained stream so that one bad record
 * cannot hold up the rest; `cloudroutes backlog list | retry | drop` reads, writes again or deletes them.
 */
import type { Redis } from 'ioredis';
import { CloudRoutesError } from '../core/errors.js';
import { keys } from '../core/keys.js';
import { fieldsToObject } from '../core/redis.js';
import type { Store } from '../store/store.js';
import { streamWriters, type DrainedStream } from './stream-writers.js';

export const DRAINED_STREAMS: readonly DrainedStream[] = ['history', 'events'];

/** True when the store is up and turned down this record, as opposed to the store being unreachable. */
export function isRefusal(err: unknown): boolean {
  return err instanceof CloudRoutesError && err.code === 'CR_STORE_REFUSED';
}

export interface DeadLetter {
  stream: DrainedStream;
  /** Its id in the dead-letter stream. */
  id: string;
  /** Its id in the stream it came from; its record's id is `<zone>:<entryId>`. */
  entryId: string;
  error: string;
  failedAt: number;
  monitorId: string;
  fields: Record<string, string>;
}

const OWN_FIELDS = new Set(['entryId', 'error', 'failedAt']);

/** The fields of a dead letter for the entry `entryId` with `fields` that failed with `error`. */
export function deadLetterFields(entryId: string, fields: Record<string, string>, error: string): string[] {
  const own = Object.entries(fields).filter(([name]) => !OWN_FIELDS.has(name)).flat();
  return [...own, 'entryId', entryId, 'error', error, 'failedAt', String(Date.now())];
}

function toDeadLetter(stream: DrainedStream, id: string, raw: string[]): DeadLetter {
  const all = fieldsToObject(raw);
  const fields = Object.fromEntries(Object.entries(all).filter(([name]) => !OWN_FIELDS.has(name)));
  return { stream, id, entryId: all.entryId ?? id, error: all.error ?? '', failedAt: Number(all.failedAt) || 0, monitorId: all.monitorId ?? '', fields };
}

/** Dead letters of each drained stream of `zone`. */
export async function countDeadLetters(redis: Redis, zone: string): Promise<Record<DrainedStream, number>> {
  const k = keys(zone);
  const [history, events] = await Promise.all(DRAINED_STREAMS.map((s) => redis.xlen(k.deadLetters(s))));
  return { history: history!, events: events! };
}

/** Every dead letter of `zone`, oldest first within each stream. */
export async function listDeadLetters(redis: Redis, zone: string): Promise<DeadLetter[]> {
  const k = keys(zone);
  const out: DeadLetter[] = [];
  for (const stream of DRAINED_STREAMS) {
    for (const [id, raw] of await redis.xrange(k.deadLetters(stream), '-', '+')) out.push(toDeadLetter(stream, id, raw));
  }
  return out;
}

export interface RetryReport {
  /** Written to the store and removed from the dead letters. */
  stored: number;
  /** Refused again: kept, with the new error and time. */
  failed: { stream: DrainedStream; entryId: string; monitorId: string; error: string }[];
}

/**
 * Writes each dead letter of `zone` to the store again. A record the store takes leaves the dead letters; one it refuses
 * again stays with its new error. Throws (the store's error) when the store cannot be reached: what was stored stays stored.
 */
export async function retryDeadLetters(redis: Redis, store: Store, zone: string): Promise<RetryReport> {
  const k = keys(zone);
  const writers = streamWriters(store, zone);
  const report: RetryReport = { stored: 0, failed: [] };
  for (const letter of await listDeadLetters(redis, zone)) {
    const dead = k.deadLetters(letter.stream);
    try {
      const writer = writers[letter.stream] as { parse(id: string, f: Record<string, string>): unknown; write(r: unknown[]): Promise<void> };
      await writer.write([writer.parse(letter.entryId, letter.fields)]);
      await redis.xdel(dead, letter.id);
      report.stored++;
    } catch (err) {
      if (!isRefusal(err) && !(err instanceof CloudRoutesError && err.code === 'CR_BAD_ENTRY')) throw err;
      const error = (err as Error).message;
      await redis.multi().xadd(dead, '*', ...deadLetterFields(letter.entryId, letter.fields, error)).xdel(dead, letter.id).exec();
      report.failed.push({ stream: letter.stream, entryId: letter.entryId, monitorId: letter.monitorId, error });
    }
  }
  return report;
}

/** Deletes every dead letter of `zone`; returns how many there were. */
export async function dropDeadLetters(redis: Redis, zone: string): Promise<number> {
  const dead = DRAINED_STREAMS.map((s) => keys(zone).deadLetters(s));
  const replies = (await redis.multi().xlen(dead[0]!).xlen(dead[1]!).del(...dead).exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  return Number(replies[0]![1]) + Number(replies[1]![1]);
}

/**
 * One connection per RethinkDB server of the store, reconnected in the background when it drops.
 * (r.connectPool keeps one pool per process and drains the previous one when called again, and stops
 * at the first unreachable server of its list, so each store owns its connections here instead.)
 */
import { r, type Connection, type RQuery, type RunOptions } from 'rethinkdb-ts';
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { hintFor, reasonOf, storeFailure } from './rethinkdb-errors.js';
import { serverName, type RethinkServer, type RethinkTarget } from './rethinkdb-url.js';

export interface PoolOptions {
  /** Give up connecting to one server after this long (ms), default 5000. */
  connectTimeoutMs?: number;
  /** Give up waiting for a query's answer after this long (ms), default 30 000; 0 waits forever. */
  queryTimeoutMs?: number;
  /** First delay before reconnecting to a server (ms), doubled up to 10 s while it stays down; default 500. */
  retryMs?: number;
  /**
   * Every this many ms each connection runs a trivial query; one not answered before the next is
   * due closes the connection (a server cut off without a TCP reset would otherwise hang queries and
   * feeds). Default 5000; 0 turns it off.
   */
  heartbeatMs?: number;
  logger?: Logger;
}

interface Slot {
  server: RethinkServer;
  name: string;
  conn?: Connection;
  lastError?: unknown;
  retry?: NodeJS.Timeout;
  backoffMs: number;
  pinging?: boolean;
}

const MAX_BACKOFF_MS = 10_000;

/** The connections of one store: queries go round-robin to the servers that are connected. */
export class RethinkPool {
  /** host:port[,host:port...], for messages. */
  readonly where: string;
  private readonly slots: Slot[];
  private closed = false;
  private turn = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly target: RethinkTarget, private readonly opts: PoolOptions = {}) {
    this.slots = target.servers.map((server) => ({ server, name: serverName(server), backoffMs: opts.retryMs ?? 500 }));
    this.where = this.slots.map((s) => s.name).join(',');
  }

  /** Connects to every server; resolves once one answers, throws CR_STORE naming each server and why when none does. */
  async open(): Promise<void> {
    const attempts = this.slots.map((slot) =>
      this.connect(slot).catch((err: unknown) => {
        slot.lastError = err;
        this.scheduleRetry(slot);
        throw err;
      }));
    try {
      await Promise.any(attempts);
      const every = this.opts.heartbeatMs ?? 5000;
      if (every > 0) this.heartbeat = setInterval(() => this.slots.forEach((slot) => void this.ping(slot, every)), every).unref();
    } catch {
      await this.close();
      const first = this.slots[0]!.lastError;
      throw errors.store(`cannot connect to RethinkDB at ${this.reasons()}; ${hintFor(first, this.where)}`);
    }
  }

  /** Runs `q` on a connected server; driver errors and a missing answer become CR_STORE errors naming `op` and the server. */
  async run<T>(op: string, q: RQuery<T>, opts: RunOptions = {}, timeoutMs = this.opts.queryTimeoutMs ?? 30_000): Promise<T> {
    return (await this.runOn(op, q, opts, timeoutMs)).result;
  }

  /** Like run(), also saying which server (host:port) answered. */
  async runOn<T>(op: string, q: RQuery<T>, opts: RunOptions = {}, timeoutMs = this.opts.queryTimeoutMs ?? 30_000): Promise<{ result: T; server: string }> {
    const slot = this.pick(op);
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = q.run(slot.conn!, opts).then((result) => ({ result, server: slot.name }));
      if (!timeoutMs) return await answer;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(errors.store(
          `${op} on RethinkDB ${slot.name} got no answer within ${timeoutMs / 1000}s; check that the server is not overloaded or cut off from its cluster (web console, server logs)`)), timeoutMs);
      });
      return await Promise.race([answer, late]);
    } catch (err) {
      throw storeFailure(op, slot.name, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every connection and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    await Promise.all(this.slots.map(async (slot) => {
      clearTimeout(slot.retry);
      const conn = slot.conn;
      slot.conn = undefined;
      if (!conn) return;
      conn.removeAllListeners();
      await conn.close().catch(() => undefined);
    }));
  }

  private pick(op: string): Slot {
    if (this.closed) throw errors.store(`${op}: the RethinkDB store at ${this.where} is closed`);
    const open = this.slots.filter((s) => s.conn?.open);
    if (open.length === 0) {
      const first = this.slots.find((s) => s.lastError)?.lastError ?? new Error('not connected');
      throw errors.store(`${op} on RethinkDB ${this.where} failed (no server connected: ${this.reasons()}); ${hintFor(first, this.where)}`);
    }
    this.turn = (this.turn + 1) % open.length;
    return open[this.turn]!;
  }

  private reasons(): string {
    return this.slots.map((s) => `${s.name} (${s.lastError === undefined ? 'connecting' : reasonOf(s.lastError)})`).join(', ');
  }

  private async connect(slot: Slot): Promise<Connection> {
    const { user, password, db } = this.target;
    const log = this.opts.logger;
    const conn = await r.connect({
      server: slot.server, user, password, db, silent: true,
      timeout: (this.opts.connectTimeoutMs ?? 5000) / 1000,
      log: (message: string) => log?.debug({ server: slot.name }, `rethinkdb driver: ${message}`),
    });
    if (this.closed) {
      await conn.close().catch(() => undefined);
      throw errors.store(`the RethinkDB store at ${this.where} was closed while connecting`);
    }
    slot.conn = conn;
    slot.lastError = undefined;
    slot.backoffMs = this.opts.retryMs ?? 500;
    conn.on('error', () => undefined);
    conn.on('close', (err?: unknown) => {
      if (slot.conn !== conn) return;
      slot.conn = undefined;
      slot.lastError = err ?? new Error('connection closed');
      log?.warn({ server: slot.name, err: reasonOf(slot.lastError) }, 'lost the connection to RethinkDB; reconnecting');
      this.scheduleRetry(slot);
    });
    return conn;
  }

  private async ping(slot: Slot, withinMs: number): Promise<void> {
    const conn = slot.conn;
    if (!conn?.open || slot.pinging) return;
    slot.pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      r.expr(1).run(conn).then(() => true, () => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), withinMs))),
    ]);
    clearTimeout(timer);
    slot.pinging = false;
    if (answered || slot.conn !== conn || this.closed) return;
    slot.conn = undefined;
    slot.lastError = new Error(`no answer to a heartbeat within ${withinMs} ms`);
    this.opts.logger?.warn({ server: slot.name }, `RethinkDB did not answer a heartbeat within ${withinMs} ms; reconnecting`);
    conn.removeAllListeners();
    conn.on('error', () => undefined);
    void conn.close().catch(() => undefined);
    this.scheduleRetry(slot);
  }

  private scheduleRetry(slot: Slot): void {
    if (this.closed || slot.retry) return;
    slot.retry = setTimeout(() => {
      slot.retry = undefined;
      this.connect(slot).then(
        () => this.opts.logger?.info({ server: slot.name }, 'connected to RethinkDB again'),
        (err: unknown) => {
          slot.lastError = err;
          slot.backoffMs = Math.min(slot.backoffMs * 2, MAX_BACKOFF_MS);
          this.scheduleRetry(slot);
        });
    }, slot.backoffMs);
    slot.retry.unref();
  }
}

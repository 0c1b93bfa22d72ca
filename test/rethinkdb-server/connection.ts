/** One client connection: the V1_0 handshake, then queries by token (several in flight), cursors and feeds. */
import type { Socket } from 'node:net';
import { FeedSubscription } from './changefeeds.js';
import { compile, compileGlobalOptargs } from './compile.js';
import { asInt, type Datum, toJson } from './datum.js';
import { clientError, logicError } from './errors.js';
import { EMPTY_SCOPE, Evaluator, termSpecs } from './evaluator.js';
import { encodeHandshake, encodeResponse, QUERY_SIZE_LIMIT, type QueryFrame, tokenText, WireReader } from './framing.js';
import { MAGIC_V1_0, QueryType, ResponseType } from './protocol.js';
import { HandshakeError, ScramExchange, type StoredUser } from './scram.js';
import type { Store } from './store.js';
import { errorJson, responseJson } from './responses.js';
import { asDatum, asSeq, type Val } from './values.js';

export interface ServerState {
  store: Store;
  users: Map<string, StoredUser>;
}

export const SERVER_VERSION = '2.4.4';

// Batches of a cursor: at most 1 MiB of rows, the first one a quarter of that (the server's defaults).
const BATCH_BYTES = 1024 * 1024;
const FIRST_BATCH_SCALEDOWN = 4;

interface Cursor {
  kind: 'cursor';
  rows: string[];
  maxBytes: number;
}

interface Feed {
  kind: 'feed';
  sub: FeedSubscription;
  /** CONTINUEs of one feed are answered in order. */
  chain: Promise<void>;
  stopped: boolean;
}

function jsonKind(v: unknown): string {
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return 'ARRAY';
  if (typeof v === 'object') return 'OBJECT';
  return typeof v === 'number' ? 'NUMBER' : typeof v === 'string' ? 'STRING' : 'BOOL';
}

/** The server's checks of a query's outer shape; failures are CLIENT_ERRORs prefixed "Server could not parse query". */
function checkQueryShape(query: unknown): number {
  const fail = (msg: string): never => {
    throw clientError(`Server could not parse query: ${msg}`);
  };
  if (!Array.isArray(query)) return fail(`Expected a query to be an array, but found ${jsonKind(query)}.`);
  if (query.length === 0 || query.length > 3) fail(`Expected 1 to 3 elements in the top-level query, but found ${query.length}.`);
  const type: unknown = query[0];
  if (typeof type !== 'number') return fail(`Expected a query type as a number, but found ${jsonKind(type)}.`);
  if (!(Object.values(QueryType) as number[]).includes(type)) fail(`Unrecognized QueryType: ${type}.`);
  if (query.length === 3 && jsonKind(query[2]) !== 'OBJECT') fail(`Expected global optargs as an object, but found ${jsonKind(query[2])}.`);
  return type;
}

export class ClientConnection {
  private readonly reader = new WireReader();
  private phase: 'magic' | 'auth-first' | 'auth-final' | 'queries' | 'closed' = 'magic';
  private readonly scram: ScramExchange;
  private readonly running = new Map<string, Cursor | Feed>();

  constructor(
    private readonly socket: Socket,
    private readonly state: ServerState,
  ) {
    this.scram = new ScramExchange((name) => state.users.get(name));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.closed());
  }

  /** Drops the connection at once, as a crashed server would. */
  destroy(): void {
    this.socket.destroy();
    this.closed();
  }

  private closed(): void {
    this.phase = 'closed';
    for (const q of this.running.values()) if (q.kind === 'feed') q.sub.close();
    this.running.clear();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.reader.push(chunk);
    try {
      this.pump();
    } catch (e) {
      if (!(e instanceof HandshakeError)) throw e;
      this.socket.end(encodeHandshake({ error: e.message, error_code: e.code, success: false }));
      this.phase = 'closed';
    }
  }

  private pump(): void {
    for (;;) {
      if (this.phase === 'magic') {
        const magic = this.reader.readMagic();
        if (magic === undefined) return;
        if (magic !== MAGIC_V1_0) {
          // Errors before the JSON handshake are a plain NUL-terminated string, not JSON.
          const text =
            magic === 0x3f61ba36 || magic === 0x723081e1
              ? 'The PROTOBUF client protocol is no longer supported'
              : magic === 0x5f75e83e || magic === 0x400c2d20
                ? 'The RethinkDB test server only implements protocol V1_0'
                : 'Received an unsupported protocol version. This port is for RethinkDB queries. Does your client driver version not match the server?';
          this.socket.end(Buffer.from(`ERROR: ${text}\n\0`));
          this.phase = 'closed';
          return;
        }
        this.send(encodeHandshake({ max_protocol_version: 0, min_protocol_version: 0, server_version: SERVER_VERSION, success: true }));
        this.phase = 'auth-first';
      } else if (this.phase === 'auth-first' || this.phase === 'auth-final') {
        const msg = this.reader.readNulMessage();
        if (msg === undefined) return;
        if (msg === 'too-long') throw new HandshakeError(7, 'Limited read buffer size.');
        this.handshakeStep(msg);
      } else if (this.phase === 'queries') {
        const frame = this.reader.readQuery();
        if (!frame) return;
        this.onQuery(frame);
      } else {
        return;
      }
    }
  }

  private handshakeStep(text: string): void {
    let msg: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      msg = parsed as Record<string, unknown>;
    } catch {
      throw new HandshakeError(8, 'Invalid JSON object.');
    }
    if (this.phase === 'auth-first') {
      if (typeof msg.protocol_version !== 'number') throw new HandshakeError(1, 'Expected a number for `protocol_version`.');
      if (msg.protocol_version !== 0) throw new HandshakeError(2, 'Unsupported `protocol_version`.');
      if (typeof msg.authentication_method !== 'string') throw new HandshakeError(3, 'Expected a string for `authentication_method`.');
      if (msg.authentication_method !== 'SCRAM-SHA-256') throw new HandshakeError(4, 'Unsupported `authentication_method`.');
    }
    if (typeof msg.authentication !== 'string') throw new HandshakeError(5, 'Expected a string for `authentication`.');
    const reply = this.scram.step(msg.authentication);
    this.send(encodeHandshake({ authentication: reply, success: true }));
    this.phase = this.phase === 'auth-first' ? 'auth-final' : 'queries';
  }

  private send(buf: Buffer): void {
    if (this.phase !== 'closed' && !this.socket.destroyed) this.socket.write(buf);
  }

  private reply(token: Buffer, json: string): void {
    this.send(encodeResponse(token, json));
  }

  private onQuery(frame: QueryFrame): void {
    const { token } = frame;
    if (frame.size >= QUERY_SIZE_LIMIT) {
      const msg = `Query size (${frame.size}) greater than maximum (${QUERY_SIZE_LIMIT - 1}).`;
      this.reply(token, errorJson(clientError(msg)));
      this.socket.end();
      this.phase = 'closed';
      return;
    }
    let query: unknown;
    try {
      query = JSON.parse(frame.body.toString('utf8'));
    } catch {
      this.reply(token, errorJson(clientError('Client is buggy (failed to deserialize query).')));
      return;
    }
    try {
      this.dispatch(token, query);
    } catch (e) {
      this.reply(token, errorJson(e));
    }
  }

  private dispatch(token: Buffer, query: unknown): void {
    const key = token.toString('hex');
    const type = checkQueryShape(query);
    switch (type) {
      case QueryType.START:
        if (this.running.has(key)) throw clientError(`ERROR: duplicate token ${tokenText(token)}`);
        return this.start(token, (query as unknown[])[1], ((query as unknown[])[2] ?? {}) as Record<string, unknown>);
      case QueryType.CONTINUE:
        return this.continueQuery(token);
      case QueryType.STOP:
        return this.stop(token);
      case QueryType.NOREPLY_WAIT:
        // Every query here finishes before the next frame is read, so earlier noreply queries are done.
        return this.reply(token, responseJson(ResponseType.WAIT_COMPLETE, '[]'));
      case QueryType.SERVER_INFO: {
        const info = { id: this.state.store.serverId, name: this.state.store.serverName, proxy: false };
        return this.reply(token, responseJson(ResponseType.SERVER_INFO, `[${toJson(info)}]`));
      }
    }
  }

  private start(token: Buffer, term: unknown, globalRaw: Record<string, unknown>): void {
    // `noreply` is read before compiling: true, or a DATUM term holding true.
    const nr = globalRaw.noreply;
    const noreply = nr === true || (Array.isArray(nr) && nr[0] === 1 && nr[1] === true);
    try {
      const specs = termSpecs();
      const globals = compileGlobalOptargs(globalRaw, specs);
      const node = compile(term, specs);
      const ev = new Evaluator(this.state.store, globals, serverClock());
      const val = ev.eval(node, EMPTY_SCOPE);
      if (noreply) return;
      this.answer(token, val, ev);
    } catch (e) {
      if (!noreply) this.reply(token, errorJson(e));
    }
  }

  private answer(token: Buffer, val: Val, ev: Evaluator): void {
    const key = token.toString('hex');
    if (val.t === 'db' || val.t === 'func') {
      const got = val.t === 'db' ? 'DATABASE' : 'FUNCTION';
      throw logicError(`Query result must be of type DATUM, GROUPED_DATA, or STREAM (got ${got}).`);
    }
    if (val.t === 'feed') {
      const feed: Feed = { kind: 'feed', sub: new FeedSubscription(val.feed), chain: Promise.resolve(), stopped: false };
      this.running.set(key, feed);
      this.feedBatch(token, feed);
      return;
    }
    if (val.t === 'slice' || (val.t === 'seq' && val.seq.stream)) {
      const opt = (name: string): number | undefined => {
        const n = ev.globalOptargs.get(name);
        return n ? asInt(asDatum(ev.eval(n, EMPTY_SCOPE))) : undefined;
      };
      const maxBytes = opt('max_batch_bytes') ?? BATCH_BYTES;
      // max_batch_rows is not applied: a 2.4.4 server asked for batches of 1 row still sent a 6-row table at once.
      const cursor: Cursor = {
        kind: 'cursor',
        rows: asSeq(val).rows.map(toJson),
        maxBytes: Math.max(1, Math.floor(maxBytes / (opt('first_batch_scaledown_factor') ?? FIRST_BATCH_SCALEDOWN))),
      };
      this.cursorBatch(token, cursor, maxBytes);
      return;
    }
    this.reply(token, responseJson(ResponseType.SUCCESS_ATOM, `[${toJson(asDatum(val))}]`));
  }

  /** Sends the next batch of a cursor: SUCCESS_PARTIAL while rows remain, then SUCCESS_SEQUENCE. */
  private cursorBatch(token: Buffer, cursor: Cursor, nextMaxBytes: number): void {
    const key = token.toString('hex');
    let bytes = 0;
    let n = 0;
    while (n < cursor.rows.length && (n === 0 || bytes + cursor.rows[n].length <= cursor.maxBytes)) {
      bytes += cursor.rows[n].length;
      n++;
    }
    const batch = cursor.rows.splice(0, n);
    cursor.maxBytes = nextMaxBytes;
    const done = cursor.rows.length === 0;
    if (done) this.running.delete(key);
    else this.running.set(key, cursor);
    this.reply(token, responseJson(done ? ResponseType.SUCCESS_SEQUENCE : ResponseType.SUCCESS_PARTIAL, `[${batch.join(',')}]`));
  }

  private feedBatch(token: Buffer, feed: Feed): void {
    const key = token.toString('hex');
    feed.chain = feed.chain.then(async () => {
      try {
        const rows: Datum[] = await feed.sub.next();
        if (feed.stopped) {
          this.reply(token, responseJson(ResponseType.SUCCESS_SEQUENCE, '[]'));
          return;
        }
        this.reply(token, responseJson(ResponseType.SUCCESS_PARTIAL, `[${rows.map(toJson).join(',')}]`, { n: feed.sub.notes }));
      } catch (e) {
        this.running.delete(key);
        feed.sub.close();
        this.reply(token, errorJson(e));
      }
    });
  }

  private continueQuery(token: Buffer): void {
    const q = this.running.get(token.toString('hex'));
    if (!q) throw clientError(`Token ${tokenText(token)} not in stream cache.`);
    if (q.kind === 'cursor') this.cursorBatch(token, q, q.maxBytes);
    else this.feedBatch(token, q);
  }

  /** STOP: a held CONTINUE of a feed gets an empty SUCCESS_SEQUENCE, and so does the STOP itself. */
  private stop(token: Buffer): void {
    const key = token.toString('hex');
    const q = this.running.get(key);
    if (!q) throw clientError(`Token ${tokenText(token)} not in stream cache.`);
    this.running.delete(key);
    if (q.kind === 'feed') {
      q.stopped = true;
      q.sub.close();
    }
    this.reply(token, responseJson(ResponseType.SUCCESS_SEQUENCE, '[]'));
  }
}

/** The server's own clock (what r.now() reads): a real server's clock is not the client's, so a test that shifts Date.now does not shift it. */
function serverClock(): number {
  return Math.round(CLOCK_BASE + performance.now());
}
const CLOCK_BASE = Date.now() - performance.now();

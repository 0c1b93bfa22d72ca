/**
 * A RethinkDB wire-protocol test server for tests where no real RethinkDB can run: it speaks the V1_0 handshake
 * (SCRAM-SHA-256 with real proof checks) and evaluates the ReQL terms a store adapter uses against in-memory
 * tables, answering as the real server does (response and error types, messages, batches, changefeeds).
 * Terms it does not implement fail with a COMPILE_ERROR that names them.
 *
 * Checked against a real RethinkDB 2.4.4 (compare-with-real.ts sends the same raw queries to both): 84 of 94
 * responses were byte-identical after normalising UUIDs; the rest differ only in the server's random name
 * suffix, the opaque index-function encoding, the exact order of unordered reads (hash shards) and one
 * backtrace. Feed abort on table drop, STOP of a held CONTINUE, duplicate tokens, unparseable queries and
 * unknown run options answered identically too. Not modelled: index builds in the background (indexes are
 * ready at once), profiles, geo, grouping/aggregation, joins, order_by.limit feeds, users and permissions
 * beyond one password per user, protocols older than V1_0.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ClientConnection, type ServerState } from './connection.js';
import { storeUser } from './scram.js';
import { Store } from './store.js';
// Each term file registers its terms with the evaluator.
import './terms-basic.js';
import './terms-group.js';
import './terms-object.js';
import './terms-seq.js';
import './terms-table.js';
import './terms-write.js';
import './changefeeds.js';

export interface RethinkTestServerOptions {
  /** The user the tests connect as (default `admin`; `admin` always exists, with an empty password unless it is this user). */
  user?: string;
  password?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
}

export interface RethinkTestServer {
  readonly port: number;
  /** `rethinkdb://user[:password]@127.0.0.1:port`. */
  readonly url: string;
  /** Closes the listener and every connection; data is gone with the process. */
  stop(): Promise<void>;
  /** Drops every client connection at once (feeds and cursors end), keeping the server and its data. */
  kill(): Promise<void>;
  /** Drops the connections and stops listening, then listens again on the same port with the same data. */
  restart(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** Starts a test server on 127.0.0.1. */
export async function startRethinkTestServer(options: RethinkTestServerOptions = {}): Promise<RethinkTestServer> {
  const user = options.user ?? 'admin';
  const password = options.password ?? '';
  const state: ServerState = { store: new Store(), users: new Map([['admin', storeUser('')]]) };
  state.users.set(user, storeUser(password));
  const clients = new Set<ClientConnection>();
  const sockets = new Set<Socket>();

  const makeServer = (): Server =>
    createServer((socket) => {
      const conn = new ClientConnection(socket, state);
      clients.add(conn);
      sockets.add(socket);
      socket.on('close', () => {
        clients.delete(conn);
        sockets.delete(socket);
      });
    });

  let server = makeServer();
  const port = await listen(server, options.port ?? 0);
  const auth = `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`;

  const dropAll = (): void => {
    for (const c of [...clients]) c.destroy();
    clients.clear();
    sockets.clear();
  };
  const close = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

  return {
    port,
    url: `rethinkdb://${auth}@127.0.0.1:${port}`,
    async stop() {
      dropAll();
      await close();
    },
    async kill() {
      dropAll();
    },
    async restart() {
      dropAll();
      await close();
      server = makeServer();
      await listen(server, port);
    },
  };
}

/** Parses CLOUDROUTES_STORE=rethinkdb://[user[:password]@]host[:port][,host2[:port]...]/<db>. */
import { errors } from '../core/errors.js';

export interface RethinkServer {
  host: string;
  port: number;
}

/** Where the RethinkDB store lives and who connects. */
export interface RethinkTarget {
  servers: RethinkServer[];
  user: string;
  password: string;
  db: string;
}

export const DEFAULT_PORT = 28015;
const SETTING = 'CLOUDROUTES_STORE';
const EXAMPLE = 'expected rethinkdb://[user[:password]@]host[:port][,host2[:port]...]/<db>, e.g. rethinkdb://admin@10.0.0.1:28015,10.0.0.2:28015/cloudroutes';
/** RethinkDB's own rule for database names. */
const DB_NAME = /^[A-Za-z0-9_-]+$/;

/** The spec with its password replaced by ***, safe for messages and logs. */
export function redactUrl(spec: string): string {
  const m = /^(rethinkdb:\/\/)([^/]*)(.*)$/s.exec(spec);
  if (!m) return spec;
  const authority = m[2]!;
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return spec;
  return `${m[1]}${authority.slice(0, colon)}:***${authority.slice(at)}${m[3]}`;
}

/** host:port, with IPv6 hosts in brackets. */
export function serverName(s: RethinkServer): string {
  return `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}

/** Reads a rethinkdb:// URL; throws CR_BAD_SETTING naming CLOUDROUTES_STORE and showing an example. */
export function parseRethinkUrl(spec: string): RethinkTarget {
  const bad = (why: string) => errors.badSetting(SETTING, redactUrl(spec), `${why}; ${EXAMPLE}`);
  const prefix = 'rethinkdb://';
  if (!spec.startsWith(prefix)) throw bad('it does not start with rethinkdb://');
  const rest = spec.slice(prefix.length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const db = slash < 0 ? '' : rest.slice(slash + 1);
  if (!db) throw bad('the database name is missing');
  if (!DB_NAME.test(db)) throw bad(`database name "${db}" may only hold letters, digits, _ and -`);

  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hostlist = at < 0 ? authority : authority.slice(at + 1);
  const colon = userinfo.indexOf(':');
  const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user', bad) || 'admin';
  const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1), 'password', bad);
  if (!hostlist) throw bad('no host is given');
  const servers = hostlist.split(',').map((h) => parseServer(h, bad));
  return { servers, user, password, db };
}

function decode(s: string, what: string, bad: (why: string) => Error): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(`the ${what} is not valid percent-encoding`);
  }
}

function parseServer(h: string, bad: (why: string) => Error): RethinkServer {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))(?::(\d*))?$/.exec(h);
  if (!m) throw bad(h ? `"${h}" is not host or host:port` : 'a host in the list is empty');
  const host = (m[1] ?? m[2])!;
  if (m[3] === undefined) return { host, port: DEFAULT_PORT };
  const port = Number(m[3]);
  if (!m[3] || !Number.isInteger(port) || port < 1 || port > 65535) throw bad(`"${h}" has no valid port (1-65535)`);
  return { host, port };
}

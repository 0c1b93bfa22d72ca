/**
 * SSH host keys recorded on first use (as OpenSSH's known_hosts), for SSH checks and reactions without
 * data.ssh.hostKey: in the zone's Redis for workers and sinks, so every machine of a zone trusts the same key;
 * in a file under the data dir for `cloudroutes check`; in memory for a process that set neither.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { withFileLock } from './file-lock.js';

export interface KnownHosts {
  /** Where the keys are kept, for messages ("Redis hash cr:default:ssh-known-hosts"). */
  readonly where: string;
  /** Records `fingerprint` for `hostPort` unless a key is recorded already; resolves to the recorded one and whether it is the one just recorded. */
  remember(hostPort: string, fingerprint: string): Promise<{ recorded: string; first: boolean }>;
  /** Every recorded key, host:port -> fingerprint. */
  list(): Promise<Record<string, string>>;
  /** Forgets the key of `hostPort` (the next connection records the key it meets); false when none was recorded. */
  forget(hostPort: string): Promise<boolean>;
  /** How a person removes the key of `hostPort`. */
  forgetHint(hostPort: string): string;
}

/**
 * host:port as keys are recorded and looked up under: the host name in lower case without a trailing dot, an IPv6
 * address in its canonical form in brackets (`[2001:db8::1]:22`), OpenSSH's `[host]:port` as `host:port`.
 */
export function knownHostName(hostPort: string): string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(hostPort) ?? /^([^:[\]]+):(\d+)$/.exec(hostPort);
  if (!m) return hostPort.toLowerCase();
  const host = m[1]!.toLowerCase().replace(/\.$/, '');
  const port = Number(m[2]);
  return isIPv6(host) ? `[${canonicalIPv6(host)}]:${port}` : `${host}:${port}`;
}

function canonicalIPv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    // A zone index (fe80::1%eth0) is no URL host: lower case is all.
    return address;
  }
}

/** `entries` keyed by knownHostName, the first of several spellings of one host winning. */
function byKnownHostName(entries: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [hostPort, fingerprint] of entries) {
    const name = knownHostName(hostPort);
    if (!(name in out)) out[name] = fingerprint;
  }
  return out;
}

/** The Redis hash of a zone's recorded host keys. */
export function knownHostsKey(zone: string): string {
  return `cr:${zone}:ssh-known-hosts`;
}

/** Host keys in the zone's Redis hash, field host:port (knownHostName; fields of earlier versions may be spelled otherwise). */
export class RedisKnownHosts implements KnownHosts {
  readonly where: string;
  private readonly key: string;

  constructor(private readonly redis: Redis, private readonly zone: string) {
    this.key = knownHostsKey(zone);
    this.where = `Redis hash ${this.key}`;
  }

  async remember(hostPort: string, fingerprint: string): Promise<{ recorded: string; first: boolean }> {
    // One script: of two workers meeting a new host at once, or a worker and `known-hosts forget`, each trusts only the key in the hash.
    const [recorded, first] = await this.redis.rememberHostKey(this.key, knownHostName(hostPort), fingerprint, hostPort);
    return { recorded, first: first === 1 };
  }

  async list(): Promise<Record<string, string>> {
    // A field spelled as knownHostName is the one remember reads: it wins over an earlier version's spelling.
    const entries = Object.entries(await this.redis.hgetall(this.key));
    return byKnownHostName(entries.sort(([a], [b]) => Number(knownHostName(b) === b) - Number(knownHostName(a) === a)));
  }

  async forget(hostPort: string): Promise<boolean> {
    const name = knownHostName(hostPort);
    const fields = (await this.redis.hkeys(this.key)).filter((f) => knownHostName(f) === name);
    return (await this.redis.hdel(this.key, name, ...fields)) > 0;
  }

  forgetHint(hostPort: string): string {
    return `cloudroutes ${this.zone === 'default' ? '' : `--zone ${this.zone} `}known-hosts forget ${knownHostName(hostPort)}`;
  }
}

/** Host keys in a text file, a line `host:port SHA256:...` each (`#` comments), that a person may edit. */
export class FileKnownHosts implements KnownHosts {
  readonly where: string;

  constructor(private readonly file: string) {
    this.where = `file ${file}`;
  }

  async list(): Promise<Record<string, string>> {
    return byKnownHostName(this.lines().map(entryOf).filter((e) => e !== undefined));
  }

  // Under the lock and re-read there: of two processes meeting a new host at once, the second finds the first's line.
  async remember(hostPort: string, fingerprint: string): Promise<{ recorded: string; first: boolean }> {
    const name = knownHostName(hostPort);
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    return withFileLock(this.file, () => {
      const recorded = this.lines().map(entryOf).find((e) => e?.[0] === name)?.[1];
      if (recorded) return { recorded, first: false };
      appendFileSync(this.file, `${name} ${fingerprint}\n`, { mode: 0o600 });
      return { recorded: fingerprint, first: true };
    });
  }

  // Comments and other lines are kept; the new text replaces the file by rename, so no reader sees half of it.
  async forget(hostPort: string): Promise<boolean> {
    if (!existsSync(this.file)) return false;
    return withFileLock(this.file, () => {
      const lines = this.lines();
      const kept = lines.filter((line) => entryOf(line)?.[0] !== knownHostName(hostPort));
      if (kept.length === lines.length) return false;
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, kept.map((l) => `${l}\n`).join(''), { mode: 0o600 });
      renameSync(temp, this.file);
      return true;
    });
  }

  private lines(): string[] {
    try {
      return readFileSync(this.file, 'utf8').split('\n').filter((l) => l.trim());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return [];
    }
  }

  forgetHint(hostPort: string): string {
    return `cloudroutes known-hosts forget ${knownHostName(hostPort)} --local, or delete its line from ${this.file}`;
  }
}

/** The host:port (knownHostName: a person may write it otherwise) and fingerprint of a line of the file, unless it is a comment or incomplete. */
function entryOf(line: string): [string, string] | undefined {
  const [host, fingerprint] = line.trim().split(/\s+/);
  return host && fingerprint && !host.startsWith('#') ? [knownHostName(host), fingerprint] : undefined;
}

/** Host keys for this process's lifetime only. */
export class MemoryKnownHosts implements KnownHosts {
  readonly where = 'this process (until it restarts)';
  private readonly keys = new Map<string, string>();

  async remember(hostPort: string, fingerprint: string): Promise<{ recorded: string; first: boolean }> {
    const recorded = this.keys.get(knownHostName(hostPort));
    if (recorded) return { recorded, first: false };
    this.keys.set(knownHostName(hostPort), fingerprint);
    return { recorded: fingerprint, first: true };
  }

  async list(): Promise<Record<string, string>> {
    return Object.fromEntries(this.keys);
  }

  async forget(hostPort: string): Promise<boolean> {
    return this.keys.delete(knownHostName(hostPort));
  }

  forgetHint(): string {
    return 'restart this process';
  }
}

let current: KnownHosts = new MemoryKnownHosts();

/** Makes `store` the one this process records host keys in (workers and sinks: their zone's Redis). */
export function useKnownHosts(store: KnownHosts): void {
  current = store;
}

/** The store this process records host keys in. */
export function knownHosts(): KnownHosts {
  return current;
}

/** The file `cloudroutes check` records host keys in, as it runs without the zone's Redis. */
export function localKnownHosts(dataDir: string): FileKnownHosts {
  return new FileKnownHosts(resolve(dataDir, 'ssh-known-hosts'));
}

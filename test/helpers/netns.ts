/**
 * "Machines" for a test: network namespaces joined by a Linux bridge in the root namespace, each with its own address
 * (and, for the processes run in it, its own hostname), one of which can be cut off by taking its link down.
 */
import { execFileSync } from 'node:child_process';

export interface Machine {
  name: string;
  /** The network namespace. */
  ns: string;
  /** Its address on the bridge. */
  address: string;
  /** Its veth's end in the root namespace: down, the machine is cut off (its own address still works inside it). */
  hostVeth: string;
  /** The command that runs a program there with hostname `machine-<name>` (for Proc's prefix). */
  prefix: string[];
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Not there (or already gone).
  }
}

/** Why this machine cannot make namespaced machines (not root, or `ip netns` / `unshare --uts` failing); undefined when it can. */
export function machinesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (ip netns add)';
  const probe = `cr-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    execFileSync('ip', ['netns', 'exec', probe, 'unshare', '--uts', 'true'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `"ip netns add" or "unshare --uts" failed: ${((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim()}`;
  } finally {
    quietly(() => ip('netns', 'del', probe));
  }
}

/**
 * Namespaces `names` joined by the bridge, on 10.77.<pid % 250>.0/24: the bridge has .1, the machines .11, .12, ...
 * Names carry a short tag of this process, so two runs do not meet; a crashed run's leftovers of the same tag are
 * removed first.
 */
export class Machines {
  readonly tag = String(process.pid % 100_000);
  readonly subnet = `10.77.${process.pid % 250}`;
  /** The bridge's address: what the machines reach the root namespace by. */
  readonly hostAddress = `${this.subnet}.1`;
  readonly bridge = `crm${this.tag}br`;
  readonly all: Machine[];

  constructor(names: string[]) {
    this.all = names.map((name, i) => ({
      name,
      ns: `crm-${this.tag}-${name}`,
      address: `${this.subnet}.${11 + i}`,
      hostVeth: `crm${this.tag}${name}`,
      prefix: ['ip', 'netns', 'exec', `crm-${this.tag}-${name}`, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', `machine-${name}`],
    }));
  }

  get(name: string): Machine {
    const m = this.all.find((x) => x.name === name);
    if (!m) throw new Error(`no machine ${name}`);
    return m;
  }

  /** Builds the bridge and the machines. */
  up(): void {
    this.down();
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.hostAddress}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    for (const m of this.all) {
      ip('netns', 'add', m.ns);
      ip('link', 'add', m.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.ns);
      ip('link', 'set', m.hostVeth, 'master', this.bridge);
      ip('link', 'set', m.hostVeth, 'up');
      ip('-n', m.ns, 'addr', 'add', `${m.address}/24`, 'dev', 'eth0');
      ip('-n', m.ns, 'link', 'set', 'eth0', 'up');
      ip('-n', m.ns, 'link', 'set', 'lo', 'up');
    }
    const [first, ...others] = this.all;
    for (const [from, to] of [...this.all.map((m) => [m, this.hostAddress] as const), ...others.map((m) => [m, first!.address] as const)]) {
      try {
        execFileSync('ip', ['netns', 'exec', from.ns, 'ping', '-c', '1', '-W', '2', to], { stdio: 'pipe' });
      } catch {
        throw new Error(`machine ${from.name} cannot reach ${to} through bridge ${this.bridge}: is bridged traffic filtered ` +
          '(net.bridge.bridge-nf-call-iptables=1 with an iptables FORWARD policy of DROP, as Docker sets)?');
      }
    }
  }

  /** Cuts `name` off the bridge. */
  cut(name: string): void {
    ip('link', 'set', this.get(name).hostVeth, 'down');
  }

  /** Joins `name` to the bridge again. */
  restore(name: string): void {
    ip('link', 'set', this.get(name).hostVeth, 'up');
  }

  /** Removes the namespaces, their veths and the bridge; never throws (what is not there is skipped). */
  down(): void {
    for (const m of this.all) {
      quietly(() => ip('netns', 'del', m.ns));
      quietly(() => ip('link', 'del', m.hostVeth));
    }
    quietly(() => ip('link', 'del', this.bridge));
  }
}

/** Starts a real dnsmasq on a free port of 127.0.0.1, answering only from the records it is given. */
import { spawn, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { freePort } from './redis-server.js';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export class Dnsmasq {
  private proc: ChildProcess | undefined;
  port = 0;
  output = '';

  /** `records` are dnsmasq options such as "--host-record=www.test,10.0.0.1"; names under `domain` never go upstream. */
  constructor(readonly records: string[], readonly domain = 'test') {}

  /** "127.0.0.1:<port>", as a check's data.server. */
  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    // A free TCP port is nearly always a free UDP port too; dnsmasq binds both and exits when it cannot.
    this.port = await freePort();
    const args = [
      '--keep-in-foreground',
      `--port=${this.port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      '--pid-file=',
      '--user=root',
      '--log-facility=-',
      `--local=/${this.domain}/`,
      ...this.records,
    ];
    const proc = spawn(DNSMASQ, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    // Also when the test file crashes or a hook throws before stop().
    const killOnExit = (): void => void proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    proc.once('exit', () => process.removeListener('exit', killOnExit));
    proc.stdout!.on('data', (c: Buffer) => (this.output += c));
    proc.stderr!.on('data', (c: Buffer) => (this.output += c));
    const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([this.server]);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const failed = await Promise.race([spawnError, new Promise((r) => setTimeout(r, 20, undefined))]);
      if (failed) throw new Error(`cannot start ${DNSMASQ}: ${(failed as Error).message}`);
      if (proc.exitCode !== null) break;
      // Any DNS answer, even "no such name", says it is serving.
      const code = await resolver.resolve4(`ready-probe.${this.domain}`).then(
        () => 'ok',
        (err: NodeJS.ErrnoException) => err.code,
      );
      if (code === 'ok' || code === 'ENOTFOUND' || code === 'ENODATA') return this;
    }
    await this.stop();
    throw new Error(`dnsmasq did not answer on ${this.server} within 5 s; it printed:\n${this.output}`);
  }

  /** Kills dnsmasq and waits for it to exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

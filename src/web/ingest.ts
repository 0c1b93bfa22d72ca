/** What the webhook and heartbeat routes share: token authentication, recording a monitor's signal, pushing a result at once. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keys, type Keys } from '../core/keys.js';
import type { ResultMessage } from '../core/messages.js';
import { parseSignal, signalTtl } from '../core/signals.js';
import type { Signal, Status } from '../core/types.js';
import type { WebDeps } from './deps.js';
import { errors } from '../core/errors.js';
import { ToldMonitors, type ToldMonitor } from './told-monitors.js';

/** Where each kind of told monitor is told, for the error that points a caller to the right route. */
const ENDPOINT: Record<string, (id: string) => string> = {
  heartbeat: () => 'GET or POST /ping/<token> (and /ping/<token>/fail)',
  webhook: (id) => `POST /api/v1/webhook/${id}`,
  'datadog-webhook': (id) => `POST /api/v1/webhook/${id}/datadog`,
};

export class Ingest {
  readonly monitors: ToldMonitors;
  private readonly k: Keys;

  constructor(private readonly app: FastifyInstance, private readonly deps: WebDeps) {
    this.monitors = new ToldMonitors(deps.redis, deps.settings.zone, deps.secretKey);
    this.k = keys(deps.settings.zone);
  }

  /** The monitor `id` when `presented` is its token; otherwise a 401 counted against the source (429 once it is throttled). */
  async authenticate(request: FastifyRequest, id: string | undefined, presented: string | undefined, how: string): Promise<ToldMonitor> {
    if (!presented) this.app.authFailed(request, `a token is needed: ${how}`);
    const monitor = id ? await this.monitors.verify(id, presented) : undefined;
    if (!monitor) this.app.authFailed(request, 'the token is not valid (it must be the token of a webhook or heartbeat monitor checked in this zone)');
    return monitor;
  }

  /** Refuses a monitor of another kind than this route serves, naming the route that serves it. */
  expectCtype(monitor: ToldMonitor, ctype: string): void {
    if (monitor.ctype === ctype) return;
    const where = ENDPOINT[monitor.ctype]?.(monitor.id);
    throw errors.wrongEndpoint(monitor.id, monitor.ctype, ctype, where);
  }

  /**
   * Records a heartbeat ping. A ping to a monitor that is failed, or whose last signal was a failure not yet recorded
   * by the sink, also pushes a healthy result (at most once a second), so it recovers at once.
   */
  async ping(monitor: ToldMonitor): Promise<void> {
    const now = Date.now();
    const [previous, status] = await Promise.all([this.record(monitor, { at: now, status: 'healthy' }), this.deps.redis.hget(this.k.state(monitor.id), 'status')]);
    if ((status === 'failed' || parseSignal(previous)?.status === 'failed') && now - monitor.recoveredAt > 1000) {
      this.push(monitor, 'healthy', 'ping received: the job ran again', now);
      monitor.recoveredAt = now;
    }
  }

  /** Records a signal and pushes it as a result at once, so the sink and the reactions see it without waiting for the schedule. */
  async tell(monitor: ToldMonitor, status: Status, message: string): Promise<void> {
    const now = Date.now();
    await this.record(monitor, { at: now, status, ...(message ? { message } : {}) });
    this.push(monitor, status, message, now);
  }

  /** Writes the monitor's signal; resolves to the one it replaced (JSON), if any. */
  private record(monitor: ToldMonitor, signal: Signal): Promise<string | null> {
    const grace = typeof monitor.options.grace === 'number' ? monitor.options.grace : 0;
    return this.deps.redis.set(this.k.signal(monitor.id), JSON.stringify(signal), 'EX', signalTtl(monitor.interval, grace), 'GET');
  }

  private push(monitor: ToldMonitor, status: Status, message: string, now: number): void {
    const msg: ResultMessage = { v: 1, type: 'result', monitorId: monitor.id, zone: this.deps.settings.zone, status, message, latencyMs: null, due: now, checkedAt: now };
    if (!this.deps.pushResult(msg)) {
      this.deps.logger.error({ monitorId: monitor.id }, 'results outbox full (Redis has not confirmed told results for a while: is it reachable?); told result not sent');
      throw errors.busy(monitor.id);
    }
  }
}

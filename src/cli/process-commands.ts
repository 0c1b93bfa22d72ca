/** `cloudroutes control | broker | worker | sink | bridge`: one long-running process each, stopped cleanly by SIGINT/SIGTERM. */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { endpoint, loadSettings, type Settings } from '../core/config.js';
import { resolveSecretKey } from '../core/crypto.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Redis } from 'ioredis';
import { connectRedis } from '../core/redis.js';
import { heartbeatIntervalMs, startHeartbeat, type Heartbeat } from '../core/heartbeat.js';
import type { ProcessKind } from '../core/processes.js';
import { startBroker } from '../broker/broker.js';
import { brokerCurve } from '../broker/auth.js';
import { loadCurveSettings } from '../core/curve.js';
import { clientCurve } from '../core/socket-options.js';
import { startControl } from '../control/control.js';
import { startWorker } from '../worker/worker.js';
import { SINK_MAX_RUNNING_PER_TYPE, startSink } from '../sink/sink.js';
import { startBridge } from '../bridge/bridge.js';
import { startWeb } from '../web/start.js';
import { parseMetricsPort, withMetrics, type MetricsFlags } from '../core/metrics-server.js';
import { LazyStore } from '../store/lazy-store.js';
import { envInt, intOption } from './output.js';
import { durationSettingMs } from '../core/duration.js';
import { openStoreRetrying } from '../store/open.js';
import { onLoopEnded } from '../core/main-loop.js';
import { watchProcess } from '../core/process-faults.js';
import { allowCommandsFromEnv } from '../core/command-policy.js';
import { everySecond } from '../core/ticker.js';

interface Running {
  stop(): Promise<void>;
}

/**
 * Starts a component and keeps the process up until a signal, then stops it and exits 0. A main loop that ends
 * makes the process exit 1 (after a bounded try at stopping), so its process manager restarts it. While it runs, its
 * heartbeat tells the zone it is alive; a clean stop removes it, a main loop that ended stops it (the process turns gone).
 */
async function serve(name: ProcessKind, start: (settings: Settings, logger: Logger) => Promise<Running>, beat: { concurrency?: number } = {}): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger(name);
  const intervalMs = heartbeatIntervalMs();
  let running: Running | undefined;
  let starting: Promise<Running> | undefined;
  let heartbeat: Heartbeat | undefined;
  let heartbeatRedis: Redis | undefined;
  let stopping = false;
  const stop = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason: why }, `${name} stopping`);
    const force = setTimeout(() => process.exit(code || 1), code ? 3000 : 10_000);
    force.unref();
    if (code === 0) await heartbeat?.stop();
    else heartbeat?.halt();
    heartbeatRedis?.disconnect();
    // A signal that arrives while the component starts (it may log "listening" before start returns) stops it once started.
    running ??= await starting?.catch(() => undefined);
    await running?.stop().catch((err) => logger.error({ err: (err as Error).message }, 'error while stopping'));
    logger.info(`${name} stopped`);
    process.exit(code);
  };
  watchProcess(name, logger);
  onLoopEnded((err) => {
    heartbeat?.halt();
    void stop(err.code, 1);
  });
  // Started by `cloudroutes dev`: when dev dies (even by SIGKILL) this process is re-parented, and an orphan must not run on.
  const devPid = Number(process.env.CLOUDROUTES_DEV_PID);
  // Looked at in the process's shared tick (src/core/ticker.ts), so it costs no wakeup of its own.
  if (devPid) everySecond(() => process.ppid !== devPid && void stop('cloudroutes dev is gone', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  starting = start(settings, logger);
  running = await starting;
  if (stopping) return;
  heartbeatRedis = connectRedis(settings.redisUrl, logger, { logState: false });
  heartbeat = startHeartbeat({ redis: heartbeatRedis, zone: settings.zone, kind: name, logger, intervalMs, concurrency: beat.concurrency });
}

/** Wraps a component so stopping it also closes its Redis connection. */
async function withRedis<T extends Running>(settings: Settings, logger: Logger, start: (redis: ReturnType<typeof connectRedis>) => Promise<T>): Promise<Running> {
  const redis = connectRedis(settings.redisUrl, logger);
  let component: T;
  try {
    component = await start(redis);
  } catch (err) {
    // A component that cannot start (bad settings) must not leave the process held open by its connection.
    redis.disconnect();
    throw err;
  }
  return {
    async stop() {
      await component.stop();
      redis.disconnect();
    },
  };
}

/** CURVE options of a control, worker, sink or web process, from CLOUDROUTES_CURVE_* and CLOUDROUTES_BROKER_PUBLIC_KEY. */
const curve = () => clientCurve(loadCurveSettings());

/** --metrics-port and --metrics-host of the broker, control, worker, sink and bridge. */
function metricsOptions(cmd: Command): Command {
  return cmd
    .option('--metrics-port <port>', "serve this process's /metrics on this port (env CLOUDROUTES_METRICS_PORT; 0: a free one, logged)", (v) => parseMetricsPort(v))
    .option('--metrics-host <address>', 'address /metrics listens on (env CLOUDROUTES_METRICS_HOST)', process.env.CLOUDROUTES_METRICS_HOST || '127.0.0.1');
}

/** Registers the process commands. */
export function processCommands(program: Command): void {
  metricsOptions(program.command('broker'))
    .description('run a broker: jobs from controls to workers with free slots, results from workers to sinks')
    .option('--bind <address>', 'address to listen on (0.0.0.0 for workers on other machines)', process.env.CLOUDROUTES_BROKER_BIND ?? '127.0.0.1')
    .option('--insecure-plaintext', 'listen without CURVE on an address others can reach (env CLOUDROUTES_INSECURE_PLAINTEXT=1; not advised)', process.env.CLOUDROUTES_INSECURE_PLAINTEXT === '1')
    .action((o) =>
      serve('broker', (s, logger) => withMetrics('broker', o, logger, (metrics) =>
        withRedis(s, logger, async (redis) => {
          const broker = await startBroker({ bind: o.bind, ports: s.ports, logger, zone: s.zone, redis, metrics, curve: brokerCurve(loadCurveSettings()), insecurePlaintext: o.insecurePlaintext });
          process.on('SIGHUP', () => broker.reloadClients());
          return broker;
        }))),
    );

  metricsOptions(program.command('control'))
    .description("run a control: dispatch due monitors of this zone's schedule to the broker")
    .action((o: MetricsFlags) =>
      serve('control', (s, logger) => withMetrics('control', o, logger, (metrics) =>
        withRedis(s, logger, (redis) => startControl({ redis, zone: s.zone, brokers: s.brokers.map((b) => endpoint(b.host, b.ports.jobsIn)), logger, metrics, curve: curve() })))),
    );

  metricsOptions(program.command('worker'))
    .description("run a worker: run checks (many at once) and add their results to the zone's results stream in Redis")
    .option('--concurrency <n>', 'checks run at once (env CLOUDROUTES_WORKER_CONCURRENCY, default 256)', intOption('--concurrency', 1))
    .option('--allow-commands', 'run checks that run commands, e.g. execute-shell-command (env CLOUDROUTES_ALLOW_COMMANDS=1); without it they give unknown')
    .action((o) => {
      const concurrency: number = o.concurrency ?? envInt('CLOUDROUTES_WORKER_CONCURRENCY', 256, 1);
      return serve('worker', (s, logger) =>
        withMetrics('worker', o, logger, (metrics) => withRedis(s, logger, (redis) =>
          startWorker({
            jobs: s.brokers.map((b) => endpoint(b.host, b.ports.workers)), zone: s.zone, logger, redis,
            concurrency, secretKey: resolveSecretKey(s.secretKey, s.dataDir), checksPath: s.checksPath, metrics, curve: curve(),
            allowCommands: o.allowCommands === true || allowCommandsFromEnv(), resultsWaitingMax: s.backlogMax,
          }),
        )), { concurrency });
    });

  metricsOptions(program.command('sink'))
    .description("run a sink: record the zone's results from Redis and run the reactions whose rules hold")
    .option('--allow-commands', 'run reactions that run commands, e.g. execute-shell-command, ssh-command (env CLOUDROUTES_ALLOW_COMMANDS=1); without it they are recorded failed')
    .action((o: MetricsFlags & { allowCommands?: boolean }) => {
      const perType = envInt('CLOUDROUTES_REACTION_CONCURRENCY', SINK_MAX_RUNNING_PER_TYPE, 1);
      return serve('sink', (s, logger) => {
        // A short lock wait: SQLite blocks the whole process while it waits.
        const store = new LazyStore(s.store, { busyTimeoutMs: 100, logger });
        return withMetrics('sink', o, logger, (metrics) => withRedis(s, logger, async (redis) => {
          const sink = await startSink({
            redis, zone: s.zone, logger,
            secretKey: resolveSecretKey(s.secretKey, s.dataDir), actionsPath: s.actionsPath,
            reactionTimeoutMs: envInt('CLOUDROUTES_REACTION_TIMEOUT_MS', 30_000, 1),
            maxRunningPerType: perType,
            claimIdleMs: durationSettingMs('CLOUDROUTES_SINK_CLAIM_IDLE', 15_000, 1000, 3_600_000),
            claims: { claimReaction: async (c) => (await store.get()).claimReaction(c) }, metrics,
            allowCommands: o.allowCommands === true || allowCommandsFromEnv(), backlogMax: s.backlogMax,
          });
          return { stop: async () => { await sink.stop(); await store.close(); } };
        }));
      }, { concurrency: perType });
    });

  program
    .command('web')
    .description('run the web process: REST API, webhook and heartbeat monitors, dashboard, /health and /metrics')
    .option('--port <port>', 'port to listen on (env CLOUDROUTES_WEB_PORT, default 8080)', intOption('--port', 0, 65535))
    .option('--host <address>', 'address to listen on (0.0.0.0 for other machines; env CLOUDROUTES_WEB_HOST)', process.env.CLOUDROUTES_WEB_HOST || '127.0.0.1')
    .option('--metrics-need-key', 'make /metrics require an API key (env CLOUDROUTES_METRICS_NEED_KEY=1)', process.env.CLOUDROUTES_METRICS_NEED_KEY === '1')
    .action((o) => serve('web', (settings, logger) => startWeb({ settings, logger, host: o.host, port: o.port ?? envInt('CLOUDROUTES_WEB_PORT', 8080, 0, 65535), metricsNeedKey: o.metricsNeedKey })));

  metricsOptions(program.command('bridge'))
    .description('run the bridge: carry config from the store into Redis, and history and events from Redis into the store')
    // A stable consumer name: a bridge restarted after kill -9 re-reads what it had read but not stored, at once.
    .action((o: MetricsFlags) =>
      serve('bridge', (settings, logger) => withMetrics('bridge', o, logger, async (metrics) => {
        const store = await openStoreRetrying(settings.store, { busyTimeoutMs: 1000, logger });
        const bridge = await startBridge({ settings, logger, store, consumer: `${hostname()}:bridge`, metrics });
        return { stop: async () => { await bridge.stop(); await store.close(); } };
      })),
    );
}

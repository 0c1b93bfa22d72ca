/** Redis key names; every key of a zone starts with `cr:<zone>:`. */
export interface Keys {
  /** ZSET: monitor id -> next due time (ms). */
  schedule: string;
  /** HASH: monitor id -> interval (ms). */
  intervals: string;
  /** SET of every monitor id in the zone. */
  monitors: string;
  /** STRING: monitor config JSON. */
  monitor(id: string): string;
  /** STRING: reaction config JSON. */
  reaction(id: string): string;
  /** HASH: status, failcount, lastCheck, latencyMs, lastChange, message, episode of one monitor. */
  state(monitorId: string): string;
  /** HASH: other zone -> "status|checkedAt|failcount", that zone's latest result for one monitor (quorum). */
  views(monitorId: string): string;
  /** STRING: JSON {at, status, message?}: the last signal a webhook or heartbeat monitor was told through the web process. */
  signal(monitorId: string): string;
  /** HASH: lastrun, lastEpisode, the runs inside its budget's window and the refusals noted, of one reaction for one monitor. */
  reactionState(monitorId: string, reactionId: string): string;
  /** STRING: the verification running for this monitor after a fix ran (src/sink/verification.ts), JSON. */
  verification(monitorId: string): string;
  /** STRING: a fix's breaker for one monitor: consecutive not-fixed runs and when it opened, JSON. */
  breaker(monitorId: string, reactionId: string): string;
  /** ZSET: the runs of every reaction naming this target inside its budget's window (claimReaction-3.lua). */
  targetRuns(target: string): string;
  /** HASH: target name -> "<most runs> <window ms>", the budgets `cloudroutes target set` gave (carried by the bridge). */
  targets: string;
  /** STRING: the episode in which `what` (a reason a reaction did not run) was last recorded for this monitor and reaction. */
  reactionNoted(monitorId: string, reactionId: string, what: string): string;
  /** STREAM of results on their way from workers and the web to the sinks (consumer group RESULTS_GROUP). */
  results: string;
  /** STREAM of every check result, up to 16 to an entry (see src/core/history-entry.ts). */
  history: string;
  /** STRING: results ever added to `history`, the `n` of its newest entry (recordResults). */
  historyAdded: string;
  /** STREAM of status changes and reaction runs. */
  events: string;
  /** STRING: JSON {up, since, error?}: whether the bridge can write to the store of record. */
  storeHealth: string;
  /**
   * STREAM of the records of `stream` (history or events) the store of record refused: the record's own fields
   * and `entryId` (its id in `stream`, and for a result of a history entry its index there: `<id>:<i>`; its record's
   * id is made of it), `error`, `failedAt` (ms).
   */
  deadLetters(stream: 'history' | 'events'): string;
  /** ZSET: "monitorId|due" -> when the slot was counted lost, with a broker or a worker (ms); kept 10 minutes (writeOffSlot). */
  writtenOff: string;
  /** HASH: "monitorId|due" -> the counter a written-off slot was counted under, so a late result takes back that one. */
  writtenOffWhy: string;
  /** HASH: counters (bad messages, check outcomes, reaction outcomes) summed over processes. */
  counters: string;
  /** STREAM of reaction tests asked of the zone's sinks (field `r`: a reaction-test message; group RESULTS_GROUP). */
  tests: string;
  /** STRING: the answer to test run `id` (a test-result or reaction-tested message), kept a minute. */
  testAnswer(id: string): string;
  /** HASH: process id (host:pid:start) -> JSON of its heartbeat (kind, host, pid, version, started, intervalMs, concurrency). */
  processes: string;
  /** ZSET: process id -> its last heartbeat (ms, Redis time). */
  processesSeen: string;
}

/** How long the answer to a test run is kept for its caller (s). */
export const TEST_ANSWER_TTL_S = 60;

/** The consumer group of the results stream that the zone's sinks share: each result goes to one of them. */
export const RESULTS_GROUP = 'sinks';

export function keys(zone: string): Keys {
  const p = `cr:${zone}:`;
  return {
    schedule: `${p}schedule`,
    intervals: `${p}intervals`,
    monitors: `${p}monitors`,
    monitor: (id) => `${p}monitor:${id}`,
    reaction: (id) => `${p}reaction:${id}`,
    state: (id) => `${p}state:${id}`,
    views: (id) => `${p}views:${id}`,
    signal: (id) => `${p}signal:${id}`,
    reactionState: (m, r) => `${p}rstate:${m}:${r}`,
    reactionNoted: (m, r, what) => `${p}rstate:${m}:${r}:noted:${what}`,
    targetRuns: (t) => `${p}target-runs:${t}`,
    verification: (m) => `${p}verification:${m}`,
    breaker: (m, r) => `${p}rstate:${m}:${r}:breaker`,
    targets: `${p}targets`,
    results: `${p}results`,
    history: `${p}history`,
    historyAdded: `${p}history-added`,
    events: `${p}events`,
    counters: `${p}counters`,
    writtenOff: `${p}written-off`,
    writtenOffWhy: `${p}written-off-why`,
    storeHealth: `${p}store-health`,
    processes: `${p}processes`,
    processesSeen: `${p}processes-seen`,
    deadLetters: (stream) => `${p}dead:${stream}`,
    tests: `${p}tests`,
    testAnswer: (id) => `${p}test:${id}`,
  };
}

/** HASH of schedule lag buckets (send time minus due time, ms) summed over the zone's controls; field `max` is the largest. */
export function lagKey(zone: string): string {
  return `cr:${zone}:lag`;
}

/**
 * HASH of start lag buckets (check start minus due time, ms) summed over the zone's workers. Unlike the schedule lag it
 * includes the time a job waited in the broker's and the worker's queues, so it shows workers that cannot keep up.
 */
export function startLagKey(zone: string): string {
  return `cr:${zone}:start-lag`;
}

/**
 * The counters that each account for a due slot without a recorded result (the delivery guarantee of
 * docs/architecture.md): a slot has one result, or is counted under exactly one of these.
 */
export const SLOT_REASONS = [
  'control.missed_checks', 'control.jobs_expired', 'broker.jobs_expired', 'control.jobs_dropped_queue_full', 'broker.jobs_dropped_queue_full',
  'control.jobs_unsent_at_stop', 'control.jobs_without_config', 'control.bad_configs', 'broker.jobs_lost_worker', 'control.jobs_lost_broker',
  // The worker ran the check but could not hand its result over: Redis unreachable, or no sink reading, for longer than its outbox holds.
  'worker.results_dropped_outbox_full',
] as const;

export type SlotReason = (typeof SLOT_REASONS)[number];

/** Datadog webhook notifications: the payload's schema and how its alert transition maps to a status. */
import type { Status } from '../core/types.js';
import { errors } from '../core/errors.js';

/**
 * Datadog's default payload is {body, last_updated, event_type, title, date, org {id, name}, id}, every value a
 * string; $ALERT_TRANSITION is not in it, but $EVENT_TITLE starts with it ("[Triggered] …", "[P1] [Recovered on
 * {host:a}] …"). The template in the README adds alert_transition, alert_id and alert_title.
 */
export const datadogBodySchema = {
  type: 'object',
  properties: {
    alert_transition: { type: 'string', maxLength: 100 },
    title: { type: 'string', maxLength: 10_000 },
    alert_title: { type: 'string', maxLength: 10_000 },
    body: { type: 'string' },
    // Strings in Datadog's templates; a number from a custom template is coerced to one.
    id: { type: 'string' },
    alert_id: { type: 'string' },
  },
} as const;

export interface DatadogPayload {
  alert_transition?: string;
  title?: string;
  alert_title?: string;
  body?: string;
  id?: string;
  alert_id?: string;
}

/** Statuses for the transitions whose meaning a monitor's data may choose. */
export interface DatadogChoices {
  warn?: Status;
  noData?: Status;
}

const TRANSITION_IN_TITLE = /\[(Re-Triggered|Triggered|Recovered|Re-Warn|Warn|Re-No Data|No Data|Renotify)\b[^\]]*\]/i;

/** Maps a transition name to a status; undefined when it is not one Datadog sends for alerts. */
export function transitionStatus(transition: string, choices: DatadogChoices = {}): Status | undefined {
  switch (transition.trim().toLowerCase()) {
    case 'triggered': case 're-triggered': case 'renotify': return 'failed';
    case 'recovered': return 'healthy';
    case 'warn': case 're-warn': return choices.warn ?? 'unknown';
    case 'no data': case 're-no data': return choices.noData ?? 'unknown';
    default: return undefined;
  }
}

/** The status and message of one notification; throws 400 naming the field when no known transition is in it. */
export function mapDatadog(payload: DatadogPayload, choices: DatadogChoices = {}): { status: Status; message: string; transition: string } {
  const title = (payload.title || payload.alert_title || '').trim();
  const transition = payload.alert_transition?.trim() || TRANSITION_IN_TITLE.exec(title)?.[1] || '';
  const field = payload.alert_transition?.trim() ? 'alert_transition' : 'title';
  const status = transition ? transitionStatus(transition, choices) : undefined;
  if (!status) {
    throw errors.badRequest(
      `no known Datadog alert transition in ${field} (${JSON.stringify(transition || title.slice(0, 80))}): expected Triggered, Re-Triggered, ` +
      'Renotify, Recovered, Warn, Re-Warn, No Data or Re-No Data (send "alert_transition": "$ALERT_TRANSITION")', field);
  }
  const ref = payload.alert_id ?? payload.id;
  const message = `Datadog ${transition}: ${(title || '(no title)').slice(0, 500)}${ref !== undefined && ref !== '' ? ` (Datadog ${payload.alert_id !== undefined ? 'monitor' : 'event'} ${ref})` : ''}`;
  return { status, message, transition };
}

/** Message templates of reactions: `{{monitor.name}}` and the other event fields, checked when a reaction is saved. */
import type { FieldSchema, ReactionEvent } from './types.js';
import type { FieldProblem } from './errors.js';

/** Every field a template may use, with how it is read from the event. */
const FIELDS: Record<string, (e: ReactionEvent) => unknown> = {
  'monitor.name': (e) => e.monitor.name,
  'monitor.id': (e) => e.monitor.id,
  'monitor.ctype': (e) => e.monitor.ctype,
  status: (e) => e.status,
  previousStatus: (e) => e.previousStatus ?? '',
  failcount: (e) => e.failcount,
  zone: (e) => e.zone,
  checkedAt: (e) => new Date(e.checkedAt).toISOString(),
  message: (e) => e.message,
  'reaction.name': (e) => e.reaction.name,
  'reaction.id': (e) => e.reaction.id,
  // Empty unless the reaction runs because another escalated (call-on escalated).
  'escalation.reason': (e) => e.escalation?.reason ?? '',
  'escalation.reaction.name': (e) => e.escalation?.reaction.name ?? '',
  'escalation.runs': (e) => e.escalation?.runs ?? '',
  'incident.startedAt': (e) => (e.incident ? new Date(e.incident.startedAt).toISOString() : ''),
  'incident.url': (e) => e.incident?.url ?? '',
};

/** Names a template may use between double braces. */
export const TEMPLATE_FIELDS = Object.keys(FIELDS);

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Field names used by `text` that are not template fields. */
export function unknownFields(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((name) => !(name in FIELDS)))];
}

/** Problems with the templates in `data`: each field the schema marks `template: true` that uses an unknown name. */
export function templateFieldProblems(schema: FieldSchema, value: unknown, path = 'data'): FieldProblem[] {
  if (schema.template && typeof value === 'string') {
    const unknown = unknownFields(value);
    if (!unknown.length) return [];
    return [{ path, message: `${path} uses unknown template field${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `{{${n}}}`).join(', ')}; known fields: ${TEMPLATE_FIELDS.join(', ')}` }];
  }
  if (typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((item, i) => templateFieldProblems(schema.items!, item, `${path}[${i}]`)) : [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    return sub ? templateFieldProblems(sub, v, `${path}.${key}`) : [];
  });
}

/** The sentences of templateFieldProblems. */
export function templateProblems(schema: FieldSchema, value: unknown, path = 'data'): string[] {
  return templateFieldProblems(schema, value, path).map((p) => p.message);
}

function fill(text: string, event: ReactionEvent, escape: (s: string) => string): string {
  // An unknown name stays as written: saved templates were checked, so this only shows a module's own mistake.
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in FIELDS ? escape(String(FIELDS[name]!(event))) : whole));
}

/** `text` with each `{{field}}` replaced by the event's value, as plain text (nothing escaped). */
export function render(text: string, event: ReactionEvent): string {
  return fill(text, event, (s) => s);
}

/** `text` (a JSON document) with each `{{field}}` replaced by the value escaped for use inside a JSON string. */
export function renderJson(text: string, event: ReactionEvent): string {
  return fill(text, event, (s) => JSON.stringify(s).slice(1, -1));
}

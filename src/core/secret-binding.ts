/** What a secret is bound to: its record, its field and, for one that is sent somewhere, its destination. */
import { isDeepStrictEqual } from 'node:util';
import type { FieldSchema } from './types.js';

/** The record a secret belongs to. */
export interface SecretOwner {
  kind: 'monitor' | 'reaction';
  id: string;
}

/** scheme://host:port of a URL, as lowercase as URL makes it; '' when absent; unparsable text stays itself, marked. */
function originOf(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  try {
    const url = new URL(String(value));
    // URL.origin is "null" for schemes it does not know (amqp:, redis:), so it is put together here.
    return `${url.protocol}//${url.host}`;
  } catch {
    return `not a URL ${JSON.stringify(value)}`;
  }
}

/**
 * Where secret field `field` of `data` is sent under `schema` (its `boundTo`), or undefined when it is bound to its
 * record and field only. Read from the data's plain fields, so a job whose destination was changed yields another one.
 */
export function secretDestination(schema: FieldSchema, field: string, data: Record<string, unknown>): string | undefined {
  const binding = schema.properties?.[field]?.boundTo;
  if (!binding) return undefined;
  if ('origin' in binding) return originOf(data[binding.origin]);
  const host = data[binding.host];
  const port = binding.port === undefined ? undefined : data[binding.port] ?? schema.properties?.[binding.port]?.default;
  const name = typeof host === 'string' ? host.toLowerCase() : host === undefined ? '' : JSON.stringify(host);
  return port === undefined ? name : `${name}:${String(port)}`;
}

/**
 * The first field of secret `field`'s `boundTo.also` whose value (its schema default when absent) differs between
 * `data` and `before`, with both values; undefined when the secret is sent the same way.
 */
export function transportChange(schema: FieldSchema, field: string, data: Record<string, unknown>, before: Record<string, unknown>): { field: string; to: unknown; from: unknown } | undefined {
  for (const other of schema.properties?.[field]?.boundTo?.also ?? []) {
    const fallback = schema.properties?.[other]?.default;
    const [to, from] = [data[other] ?? fallback, before[other] ?? fallback];
    if (!isDeepStrictEqual(to, from)) return { field: other, to, from };
  }
  return undefined;
}

/** The AES-GCM associated data of secret `field`: "kind:id:field", then ":destination" for a secret that is sent somewhere. */
export function secretAad(owner: SecretOwner, field: string, schema?: FieldSchema, data: Record<string, unknown> = {}): string {
  const destination = schema ? secretDestination(schema, field, data) : undefined;
  return `${owner.kind}:${owner.id}:${field}${destination === undefined ? '' : `:${destination}`}`;
}

/** A problem with the `boundTo` of the schema's secret fields (each, `also` too, must name plain fields the schema has), or undefined. */
export function bindingProblem(schema: FieldSchema): string | undefined {
  const props = schema.properties ?? {};
  for (const [field, s] of Object.entries(props)) {
    if (!s.boundTo) continue;
    if (!s.secret) return `meta.fields.properties.${field}.boundTo is set but ${field} is not secret`;
    const also: unknown = s.boundTo.also;
    if (also !== undefined && !Array.isArray(also)) return `meta.fields.properties.${field}.boundTo.also must be a list of field names`;
    const named = [...('origin' in s.boundTo ? [s.boundTo.origin] : [s.boundTo.host, s.boundTo.port]), ...((also as unknown[] | undefined) ?? [])];
    for (const n of named) {
      if (n === undefined) continue;
      // A secret destination would be read encrypted in a job and plain when saved, and never match.
      if (typeof n !== 'string' || !props[n] || props[n]!.secret) return `meta.fields.properties.${field}.boundTo must name a field that is not secret (got ${JSON.stringify(n)})`;
    }
  }
  return undefined;
}

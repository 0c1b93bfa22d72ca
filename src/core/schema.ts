/** Validates plug-in data against the JSON-Schema subset in FieldSchema; returns readable problems with their field paths. */
import type { FieldProblem } from './errors.js';
import { bindingProblem } from './secret-binding.js';
import { headerNameProblem, headerValueProblem, httpUrlProblem } from './http-syntax.js';
import type { FieldSchema } from './types.js';

const FORMATS: Record<NonNullable<FieldSchema['format']>, (s: string) => string | undefined> = {
  'http-url': httpUrlProblem,
  'http-header-name': headerNameProblem,
  'http-header-value': headerValueProblem,
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(expected: NonNullable<FieldSchema['type']>, value: unknown): boolean {
  const actual = typeOf(value);
  return actual === expected || (expected === 'number' && actual === 'integer');
}

/** The problems of `value` against `schema` (empty when it matches), each with the path of the field at fault. */
export function fieldProblems(schema: FieldSchema, value: unknown, path = 'data'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const at = (where: string, text: string) => problems.push({ path: where, message: `${where} ${text}` });
  if (schema.type && !matchesType(schema.type, value)) {
    return [{ path, message: `${path} must be ${schema.type === 'array' || schema.type === 'object' || schema.type === 'integer' ? 'an' : 'a'} ${schema.type}, got ${typeOf(value)}` }];
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    at(path, `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) at(path, `must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) at(path, `must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) at(path, `must have at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) at(path, `must have at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) at(path, `must match ${schema.pattern}`);
    const formatProblem = schema.format && FORMATS[schema.format]?.(value);
    if (formatProblem) at(path, formatProblem);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) at(path, `must have at least ${schema.minItems} ${schema.minItems === 1 ? 'item' : 'items'}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) at(path, `must have at most ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => problems.push(...fieldProblems(schema.items!, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (obj[key] === undefined) at(`${path}.${key}`, 'is required');
    }
    for (const [key, needs] of Object.entries(schema.dependentRequired ?? {})) {
      if (obj[key] === undefined) continue;
      for (const need of needs) if (obj[need] === undefined) at(`${path}.${need}`, `is required when ${path}.${key} is set`);
    }
    for (const [key, v] of Object.entries(obj)) {
      if (schema.propertyNames) problems.push(...fieldProblems(schema.propertyNames, key, `${path}.${key}`));
      // Absent, as for required: JSON has no undefined, but data built in code may.
      if (v === undefined) continue;
      const sub = schema.properties?.[key];
      if (sub) problems.push(...fieldProblems(sub, v, `${path}.${key}`));
      else if (schema.additionalProperties === false) at(`${path}.${key}`, 'is not a known field');
      else if (typeof schema.additionalProperties === 'object') problems.push(...fieldProblems(schema.additionalProperties, v, `${path}.${key}`));
    }
  }
  if (schema.oneOf) problems.push(...oneOfProblems(schema.oneOf, value, path));
  return problems;
}

/** The sentences of fieldProblems: a list of problems (empty when `value` matches `schema`), each naming the field path. */
export function validate(schema: FieldSchema, value: unknown, path = 'data'): string[] {
  return fieldProblems(schema, value, path).map((p) => p.message);
}

function oneOfProblems(branches: FieldSchema[], value: unknown, path: string): FieldProblem[] {
  const matched = branches.filter((b) => fieldProblems(b, value, path).length === 0).length;
  if (matched === 1) return [];
  // The usual use, "exactly one of these fields", gets a message in those words.
  const fields = branches.every((b) => Object.keys(b).length === 1 && b.required?.length === 1) ? branches.map((b) => b.required![0]!) : undefined;
  if (fields && typeOf(value) === 'object') {
    const set = fields.filter((f) => (value as Record<string, unknown>)[f] !== undefined);
    return [{ path, message: `${path} must set exactly one of ${fields.join(', ')} (${set.length ? `it sets ${set.join(' and ')}` : 'it sets none'})` }];
  }
  return [{ path, message: `${path} must match exactly one of ${branches.length} alternatives (it matches ${matched})` }];
}

/** `oneOf` that reads "exactly one of these fields must be set". */
export function exactlyOneOf(...fields: string[]): FieldSchema[] {
  return fields.map((f) => ({ required: [f] }));
}

/** Top-level field names that the schema marks `secret: true`. */
export function secretFields(schema: FieldSchema): string[] {
  return Object.entries(schema.properties ?? {})
    .filter(([, s]) => s.secret)
    .map(([k]) => k);
}

/** Shortest secret value that is masked in a message: a shorter one would mask ordinary words. */
const MIN_MASKED = 4;

/** The string leaves of `value` (an object's values, an array's items), at any depth. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(strings);
}

/**
 * The secret values in `data`, to keep them out of messages: each secret field's value, or, for a secret object whose
 * schema marks its own secret fields (data.ssh: key, password), only those; every string of a secret map (headers).
 */
export function secretValues(schema: FieldSchema, data: unknown): string[] {
  if (typeof data !== 'object' || data === null) return [];
  const out: string[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const value = (data as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const marksOwn = Object.values(field.properties ?? {}).some((f) => f.secret);
    if (marksOwn) out.push(...secretValues(field, value));
    else if (field.secret) out.push(...strings(value));
  }
  return out.filter((v) => v.length >= MIN_MASKED);
}

/** `text` with every occurrence of each of `secrets` replaced by ***. */
export function maskSecrets(text: string, secrets: string[]): string {
  // Longest first, so that a secret containing another one is masked whole.
  return [...secrets].sort((a, b) => b.length - a.length).reduce((t, s) => t.split(s).join('***'), text);
}

/** Checks that a plug-in's `meta.fields` is a usable schema; returns the problem or undefined. */
export function schemaProblem(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null) return 'meta.fields must be a JSON Schema object';
  const s = schema as FieldSchema;
  if (s.type !== undefined && s.type !== 'object') return 'meta.fields must describe an object (type: "object")';
  if (s.properties !== undefined && (typeof s.properties !== 'object' || s.properties === null)) return 'meta.fields.properties must be an object';
  if (s.required !== undefined && !Array.isArray(s.required)) return 'meta.fields.required must be an array of field names';
  return bindingProblem(s);
}

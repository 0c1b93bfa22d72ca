/** Schema pieces and the verdict the SQL checks (postgres, mysql) share. */
import type { CheckResult, FieldSchema } from '../../src/core/types.js';
import { asText } from './service.js';

export const databaseField: FieldSchema = { type: 'string', description: 'Database to connect to.', minLength: 1 };

export const userField: FieldSchema = { type: 'string', description: 'User to log in as.', minLength: 1 };

export const queryField: FieldSchema = {
  type: 'string',
  description: 'SQL to run once connected (default "SELECT 1"); keep it cheap and read-only, it runs on every check.',
  minLength: 1,
  default: 'SELECT 1',
};

export const expectedField: FieldSchema = {
  type: 'string',
  description:
    'Expected first column of the first row, compared as text (numbers as written, true/false, NULL for a null, ' +
    'dates as ISO 8601); leave out to accept any result.',
};

/** Healthy when the query's first value reads as `expected` (or nothing is expected). */
export function judgeRows(first: unknown, rowCount: number, expected: string | undefined, where: string, metrics: Record<string, number>, latencyMs: number): CheckResult {
  const got = rowCount > 0 ? asText(first) : undefined;
  if (expected === undefined) {
    return { status: 'healthy', message: `query on ${where} returned ${rowCount} row${rowCount === 1 ? '' : 's'}`, latencyMs, metrics };
  }
  if (got === undefined) return { status: 'failed', message: `query on ${where} returned no rows, expected ${JSON.stringify(expected)}`, latencyMs, metrics };
  if (got !== expected) return { status: 'failed', message: `query on ${where} got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`, latencyMs, metrics };
  return { status: 'healthy', message: `query on ${where} got ${JSON.stringify(got)} as expected`, latencyMs, metrics };
}

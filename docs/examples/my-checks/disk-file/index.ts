import { readFile, stat } from 'node:fs/promises';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from 'cloudroutes';
import { ageSeconds, formatAge } from './age.js';

interface Data {
  path: string;
  maxAgeSeconds?: number;
  contains?: string;
}

export const meta: PluginMeta = {
  title: 'File is fresh',
  description:
    "Looks at a file on the worker's machine, such as the marker a nightly backup writes. Healthy while the file " +
    'exists, was changed less than maxAgeSeconds ago and, when contains is set, holds that text; failed when it is ' +
    'missing, too old or lacks the text; unknown when it cannot be read before the deadline. Metrics: ageSeconds, sizeBytes.',
  fields: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'Absolute path of the file' },
      maxAgeSeconds: { type: 'integer', minimum: 1, description: 'Failed when the file was last changed longer ago than this' },
      contains: { type: 'string', minLength: 1, description: 'Failed unless the file contains this text' },
    },
    required: ['path'],
    additionalProperties: false,
  },
};

export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const { path, maxAgeSeconds, contains } = job.data as unknown as Data;
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    return { status: 'failed', message: `${path} cannot be read: ${(err as Error).message}` };
  }
  const age = ageSeconds(info.mtimeMs);
  const metrics = { ageSeconds: Math.round(age), sizeBytes: info.size };
  if (maxAgeSeconds !== undefined && age > maxAgeSeconds) {
    return { status: 'failed', message: `${path} was last changed ${formatAge(age)} ago, more than ${formatAge(maxAgeSeconds)}`, metrics };
  }
  if (contains !== undefined) {
    let text: string;
    try {
      // The signal fires at the job's deadline: stop reading then, rather than hold a worker slot.
      text = await readFile(path, { encoding: 'utf8', signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) return { status: 'unknown', message: `reading ${path} took longer than ${job.timeoutMs} ms` };
      return { status: 'failed', message: `${path} cannot be read: ${(err as Error).message}` };
    }
    if (!text.includes(contains)) return { status: 'failed', message: `${path} does not contain "${contains}"`, metrics };
  }
  ctx.logger.debug({ path, ...metrics }, 'file is fresh');
  return { status: 'healthy', message: `${path} changed ${formatAge(age)} ago`, metrics };
}

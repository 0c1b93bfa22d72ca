/** EC2 instance actions through the AWS SDK v3 (RebootInstances, StartInstances, StopInstances), shared by aws-ec2-reboot, -start and -stop. */
import { createHash } from 'node:crypto';
import {
  EC2Client,
  EC2ServiceException,
  type EC2ClientConfig,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type InstanceStateChange,
} from '@aws-sdk/client-ec2';
import type { FieldSchema, ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { wouldHave, type DryRunReturn } from './dry-run.js';
import { withMessage } from './outcome.js';

export type Ec2Verb = 'reboot' | 'start' | 'stop';

const OPERATION: Record<Ec2Verb, string> = { reboot: 'RebootInstances', start: 'StartInstances', stop: 'StopInstances' };

/** One first try and one retry (throttling, 5xx, a dropped connection); ctx.signal still ends both at the sink's deadline. */
const MAX_ATTEMPTS = 2;
/** Clients kept at once; each holds a connection pool and its resolved configuration. */
const MAX_CLIENTS = 32;

const commonFields: Record<string, FieldSchema> = {
  region: { type: 'string', description: 'AWS region of the instances, e.g. us-east-1.', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' },
  instanceIds: {
    type: 'array',
    description: 'Instance ids, at least one (i-0123456789abcdef0); all in the region.',
    items: { type: 'string', pattern: '^i-[0-9a-f]{8}([0-9a-f]{9})?$' },
    minItems: 1,
  },
  accessKeyId: {
    type: 'string',
    description: 'Access key id (AKIA... or ASIA...); with secretAccessKey. Absent: the default credential chain of the sink\'s machine. Stored encrypted.',
    pattern: '^[A-Z0-9]{16,128}$',
    secret: true,
    boundTo: { origin: 'baseUrl' },
  },
  secretAccessKey: { type: 'string', description: 'Secret access key of accessKeyId; stored encrypted.', minLength: 1, secret: true, boundTo: { origin: 'baseUrl' } },
  sessionToken: { type: 'string', description: 'Session token of temporary (ASIA...) credentials; stored encrypted.', minLength: 1, secret: true, boundTo: { origin: 'baseUrl' } },
  baseUrl: { type: 'string', description: 'Endpoint instead of https://ec2.<region>.amazonaws.com (a VPC endpoint, a proxy).', format: 'http-url' },
};

const stopFields: Record<string, FieldSchema> = {
  force: { type: 'boolean', description: 'Force the stop: no chance to flush file system caches (for an instance stuck in stopping). Default false.' },
  hibernate: { type: 'boolean', description: 'Hibernate instead of stop (the instance must have been launched with hibernation enabled). Default false.' },
};

const clients = new Map<string, EC2Client>();

function newClient(config: EC2ClientConfig): EC2Client {
  // The SDK's pinned version supports this Node; its multi-line notice about future versions on stderr would only
  // break the sink's JSON log lines, with nothing for an operator to do about it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new EC2Client(config);
}

/** The cached client for this region, endpoint and credentials; constructing one resolves its whole configuration. */
function clientFor(data: Record<string, unknown>): EC2Client {
  const region = String(data.region);
  const endpoint = typeof data.baseUrl === 'string' ? data.baseUrl : undefined;
  const credentials =
    typeof data.accessKeyId === 'string'
      ? { accessKeyId: data.accessKeyId, secretAccessKey: String(data.secretAccessKey), sessionToken: typeof data.sessionToken === 'string' ? data.sessionToken : undefined }
      : undefined;
  // Hashed so that the secrets are not kept a second time as map keys.
  const key = createHash('sha256').update(JSON.stringify([region, endpoint, credentials])).digest('hex');
  let client = clients.get(key);
  if (client) {
    clients.delete(key);
  } else {
    client = newClient({ region, endpoint, credentials, maxAttempts: MAX_ATTEMPTS });
    if (clients.size >= MAX_CLIENTS) {
      const [oldest, old] = clients.entries().next().value as [string, EC2Client];
      clients.delete(oldest);
      old.destroy();
    }
  }
  clients.set(key, client);
  return client;
}

/** A data problem the schema cannot express, or undefined. */
function dataProblem(data: Record<string, unknown>): string | undefined {
  if (!Array.isArray(data.instanceIds) || data.instanceIds.length === 0) return 'instanceIds is empty; name at least one instance';
  if (typeof data.accessKeyId === 'string' && typeof data.secretAccessKey !== 'string') return 'accessKeyId is set without secretAccessKey';
  if (typeof data.accessKeyId !== 'string' && (data.secretAccessKey !== undefined || data.sessionToken !== undefined)) return 'secretAccessKey or sessionToken is set without accessKeyId';
  return undefined;
}

function send(verb: Ec2Verb, client: EC2Client, data: Record<string, unknown>, signal: AbortSignal): Promise<InstanceStateChange[] | undefined> {
  const InstanceIds = data.instanceIds as string[];
  const opts = { abortSignal: signal };
  if (verb === 'reboot') return client.send(new RebootInstancesCommand({ InstanceIds }), opts).then(() => undefined);
  if (verb === 'start') return client.send(new StartInstancesCommand({ InstanceIds }), opts).then((out) => out.StartingInstances ?? []);
  const input = { InstanceIds, Force: data.force === true ? true : undefined, Hibernate: data.hibernate === true ? true : undefined };
  return client.send(new StopInstancesCommand(input), opts).then((out) => out.StoppingInstances ?? []);
}

/** Stands in for the reaction's keys when a dry run serializes its request: nothing is signed with them or sent. */
const UNUSED_KEYS = { accessKeyId: 'DRYRUNUNSIGNED', secretAccessKey: 'unused' };

/**
 * What a dry run of `operation` says: the request as the SDK serializes it (method, URL, form body), stopped before
 * it is signed, so neither the reaction's keys nor the machine's credential chain are used and nothing is sent.
 */
async function wouldCall(verb: Ec2Verb, operation: string, event: ReactionEvent, signal: AbortSignal, fields: FieldSchema): Promise<DryRunReturn> {
  const data = event.reaction.data;
  const client = newClient({ region: String(data.region), endpoint: typeof data.baseUrl === 'string' ? data.baseUrl : undefined, credentials: UNUSED_KEYS, maxAttempts: 1 });
  let request: { method: string; protocol: string; hostname: string; port?: number; path: string; body?: unknown } | undefined;
  const stop = { stoppedBeforeSigning: true };
  client.middlewareStack.add(
    () => async (args) => {
      request = args.request as typeof request;
      throw stop;
    },
    { step: 'build', priority: 'low', name: 'cloudroutesDryRun' },
  );
  try {
    await send(verb, client, data, signal);
  } catch {
    // The middleware above stops every call before it is signed.
  } finally {
    client.destroy();
  }
  const signer = typeof data.accessKeyId === 'string' ? `the reaction's access key ${data.accessKeyId}` : "the default credential chain of the sink's machine (not resolved in a dry run)";
  const unknown = 'whether the credentials are valid and the instances are in a state that allows it';
  if (!request) return wouldHave({ what: `call AWS EC2 ${operation} on ${(data.instanceIds as string[]).join(', ')} in ${String(data.region)}, signed with ${signer}`, unknown: `${unknown}; the SDK did not serialize the request` }, event, fields);
  const url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`;
  return wouldHave({ what: `call AWS EC2 ${operation}: ${request.method} ${url}, signed (Signature Version 4) with ${signer}`, unknown, body: String(request.body ?? '') }, event, fields);
}

/**
 * Why a call of `operation` failed: `reason` as logged (the AWS error code and message, or the network error, or the
 * deadline) and `message` for the run, e.g. "AWS RebootInstances answered 403 UnauthorizedOperation: ...".
 */
function describeError(operation: string, err: unknown, signal: AbortSignal): { reason: string; message: string; fields: Record<string, unknown> } {
  if (err instanceof EC2ServiceException) {
    // A throttled call whose retry the deadline cut short can end with the last answer or with the abort: say both.
    const reason = `${err.name}: ${err.message}${signal.aborted ? '; the deadline passed before it answered a retry' : ''}`;
    const status = err.$metadata.httpStatusCode;
    return {
      reason,
      message: `AWS ${operation} answered ${status ? `${status} ` : ''}${reason}`,
      fields: { awsCode: err.name, awsMessage: err.message, httpStatus: status, requestId: err.$metadata.requestId },
    };
  }
  if (signal.aborted) return { reason: 'the deadline passed before it answered', message: `AWS ${operation}: the deadline passed before it answered`, fields: {} };
  const e = err as NodeJS.ErrnoException;
  return { reason: `${e.code ?? e.name}: ${e.message}`, message: `AWS ${operation}: ${e.code ?? e.name} ${e.message}`, fields: { err: e.message } };
}

/** A reaction module that calls the EC2 action `verb` on the listed instances; `what` says what it does. */
export function instanceAction(verb: Ec2Verb, title: string, what: string): ReactionModule {
  const operation = OPERATION[verb];
  const meta: ReactionModule['meta'] = {
    title,
    kind: 'fix',
    dryRun: true,
    description:
      `${what} through the EC2 API (${operation} with the AWS SDK, signed with Signature Version 4). The keys are ` +
      'optional: without accessKeyId the SDK\'s default credential chain on the sink\'s machine is used (AWS_* environment ' +
      'variables, ~/.aws profiles, the instance or task role). EC2 accepting the request counts as done' +
      (verb === 'reboot' ? '' : ' (the state changes it reports, e.g. stopped -> pending, are logged)') +
      '; an AWS error (InvalidInstanceID.NotFound, UnauthorizedOperation, IncorrectInstanceState, ...), a network error or ' +
      'the deadline makes it failed, logged and returned as the message with the AWS error code and message. The keys are ' +
      'stored encrypted.',
    fields: {
      type: 'object',
      properties: verb === 'stop' ? { ...commonFields, ...stopFields } : commonFields,
      required: ['region', 'instanceIds'],
      dependentRequired: { accessKeyId: ['secretAccessKey'], secretAccessKey: ['accessKeyId'], sessionToken: ['accessKeyId'] },
      additionalProperties: false,
    },
  };

  async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
    const data = event.reaction.data;
    const label = `${event.reaction.rtype} reaction "${event.reaction.name}"`;
    const where = { monitorId: event.monitor.id, reactionId: event.reaction.id, region: data.region, instanceIds: data.instanceIds };
    const problem = dataProblem(data);
    if (problem) {
      ctx.logger.warn(where, `${label}: ${problem}`);
      return withMessage('failed', problem, event, meta.fields);
    }
    if (ctx.dryRun) return wouldCall(verb, operation, event, ctx.signal, meta.fields);
    try {
      const changes = await send(verb, clientFor(data), data, ctx.signal);
      const transitions = changes?.map((c) => `${c.InstanceId}: ${c.PreviousState?.Name} -> ${c.CurrentState?.Name}`);
      ctx.logger.info({ ...where, transitions }, `${label}: ${operation} accepted${transitions ? ` (${transitions.join(', ')})` : ''}`);
      return 'ran';
    } catch (err) {
      const { reason, message, fields } = describeError(operation, err, ctx.signal);
      ctx.logger.warn({ ...where, ...fields }, `${label}: ${operation} failed: ${reason}`);
      return withMessage('failed', message, event, meta.fields);
    }
  }

  return { meta, react };
}

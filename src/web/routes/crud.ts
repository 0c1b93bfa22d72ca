/** List, create, read, replace and remove for one kind of configuration record (monitors, reactions). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudRoutesError } from '../../core/errors.js';
import { shownRecord } from '../../core/shown-data.js';
import type { Monitor, Reaction } from '../../core/types.js';
import type { ConfigService } from '../../manage/config-service.js';
import type { Store } from '../../store/store.js';
import { configService, type WebDeps } from '../deps.js';
import { errorResponses, idParams } from './api-schemas.js';

/** What the routes of one record kind need to know. */
export interface Resource<T extends Monitor | Reaction, I> {
  kind: 'monitor' | 'reaction';
  /** e.g. /api/v1/monitors */
  path: string;
  /** Body of POST and PUT. */
  input: object;
  /** A record as the API shows it. */
  output: object;
  /** GET of one record, when it shows more than `output`. */
  detailed?: object;
  list(store: Store): Promise<T[]>;
  get(store: Store, id: string): Promise<T | undefined>;
  missing(id: string): CloudRoutesError;
  add(service: ConfigService, input: I): Promise<T>;
  update(service: ConfigService, id: string, input: I): Promise<T>;
  remove(service: ConfigService, id: string): Promise<void>;
  /** What GET of one record adds (the monitor's live state). */
  details?(record: T): Promise<Record<string, unknown>>;
  /** The answer to a create, when it shows more than `output`. */
  createdOutput?: object;
  /** What the answer to a create adds (a told monitor's token, shown only then). */
  created?(record: T, request: FastifyRequest): Record<string, unknown> | undefined;
}

/** Whether the request's API key may only read (and so sees nothing of the secrets). */
export function readOnly(request: FastifyRequest): boolean {
  return request.apiKey?.readOnly !== false;
}

/** Registers GET and POST on `r.path`, and GET, PUT and DELETE on `r.path/:id`. */
export function crudRoutes<T extends Monitor | Reaction, I>(app: FastifyInstance, deps: WebDeps, r: Resource<T, I>): void {
  const tags = [`${r.kind}s`];
  const params = idParams(r.kind);
  type ById = { Params: { id: string } };

  app.get(r.path, {
    schema: { summary: `List ${r.kind}s`, tags, response: { 200: { type: 'array', items: r.output }, ...errorResponses } },
  }, async (request) => Promise.all((await r.list(await deps.store())).map((record) => shownRecord(deps, record, readOnly(request)))));

  app.post<{ Body: I }>(r.path, {
    schema: { summary: `Create a ${r.kind}`, description: 'Validated as the CLI validates; secret fields are encrypted before they are stored.', tags, body: r.input, response: { 201: r.createdOutput ?? r.output, ...errorResponses } },
  }, async (request, reply) => {
    const record = await r.add(await configService(deps), request.body as I);
    reply.code(201);
    return { ...(await shownRecord(deps, record, false)), ...r.created?.(record, request) };
  });

  app.get<ById>(`${r.path}/:id`, {
    schema: { summary: `Show a ${r.kind}`, tags, params, response: { 200: r.detailed ?? r.output, ...errorResponses } },
  }, async (request) => {
    const record = await r.get(await deps.store(), request.params.id);
    if (!record) throw r.missing(request.params.id);
    return { ...(await shownRecord(deps, record, readOnly(request))), ...(await r.details?.(record)) };
  });

  app.put<ById & { Body: I }>(`${r.path}/:id`, {
    schema: {
      summary: `Replace a ${r.kind}`, description: 'Validated like a create; keeps the id and createdAt. A secret field sent as "(secret)" keeps its stored value.',
      tags, params, body: r.input, response: { 200: r.output, ...errorResponses },
    },
  }, async (request) => shownRecord(deps, await r.update(await configService(deps), request.params.id, request.body as I), false));

  app.delete<ById>(`${r.path}/:id`, {
    schema: { summary: `Remove a ${r.kind}`, tags, params, response: { 204: { type: 'null', description: 'removed' }, ...errorResponses } },
  }, async (request, reply) => {
    await r.remove(await configService(deps), request.params.id);
    return reply.code(204).send();
  });
}

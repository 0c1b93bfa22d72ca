/** The OpenAPI 3.0 document of /api/v1, generated from the routes' own schemas as fastify registers them. */
import type { FastifyInstance } from 'fastify';
import { routeAccess, type Access } from './auth.js';

type Schema = Record<string, unknown>;

/** What the document needs of one registered route. */
export interface ApiRoute {
  method: string;
  url: string;
  access: Access;
  schema: Schema;
}

declare module 'fastify' {
  /** What a route's schema may add for the OpenAPI document. */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
  }
  interface FastifyInstance {
    /** Every /api/v1 route registered so far (HEAD routes, which fastify adds for each GET, left out). */
    apiRoutes: ApiRoute[];
  }
}

/** Records each /api/v1 route registered after this call; install it on the root instance before any route group. */
export function collectApiRoutes(app: FastifyInstance): void {
  const routes: ApiRoute[] = [];
  app.decorate('apiRoutes', routes);
  app.addHook('onRoute', (opts) => {
    if (opts.url !== '/api/v1' && !opts.url.startsWith('/api/v1/')) return;
    for (const method of [opts.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: opts.url, access: routeAccess(method, opts.config?.access), schema: (opts.schema ?? {}) as Schema });
    }
  });
}

const ACCESS_NOTE: Record<Access, string> = {
  public: 'Public: no API key needed.',
  token: "Authenticated by the monitor's own token, not an API key.",
  read: 'Needs an API key (a read-only one will do).',
  write: 'Needs a read-write API key; a read-only key gets 403.',
};

const props = (s: unknown) => Object.entries(((s as Schema | undefined)?.properties ?? {}) as Record<string, Schema>);

/** Path and query parameters from the route's params and querystring schemas. */
function parameters(schema: Schema): Schema[] {
  const query = schema.querystring as Schema | undefined;
  const required = new Set((query?.required as string[] | undefined) ?? []);
  return [
    ...props(schema.params).map(([name, { description, ...s }]) => ({ name, in: 'path', required: true, ...(description ? { description } : {}), schema: s })),
    ...props(query).map(([name, { description, ...s }]) => ({ name, in: 'query', required: required.has(name), ...(description ? { description } : {}), schema: s })),
  ];
}

/** A body or response schema as OpenAPI content: per media type when the route lists them, else JSON. */
function content(schema: Schema): Schema {
  const byType = schema.content as Record<string, { schema: Schema }> | undefined;
  if (byType) return Object.fromEntries(Object.entries(byType).map(([type, c]) => [type, { schema: c.schema }]));
  return { 'application/json': { schema } };
}

function responses(schema: Schema): Schema {
  const declared = Object.entries((schema.response ?? {}) as Record<string, Schema>);
  if (declared.length === 0) return { 200: { description: 'OK' } };
  return Object.fromEntries(declared.map(([status, s]) => {
    const description = (s.description as string | undefined) ?? 'OK';
    const key = status.replace(/xx$/, 'XX');
    return [key, s.type === 'null' ? { description } : { description, content: content(s) }];
  }));
}

/** The OpenAPI 3.0 document describing `routes`. */
export function openApiDocument(routes: ApiRoute[]): Schema {
  const paths: Record<string, Schema> = {};
  for (const r of [...routes].sort((a, b) => a.url.localeCompare(b.url))) {
    const s = r.schema;
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const description = [s.description, ACCESS_NOTE[r.access]].filter(Boolean).join(' ');
    paths[path] ??= {};
    paths[path]![r.method.toLowerCase()] = {
      ...(s.summary ? { summary: s.summary } : {}),
      description,
      ...(s.tags ? { tags: s.tags } : {}),
      parameters: parameters(s),
      ...(s.body ? { requestBody: { required: true, content: content(s.body as Schema) } } : {}),
      responses: responses(s),
      security: r.access === 'read' || r.access === 'write' ? [{ apiKey: [] }] : [],
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'CloudRoutes API',
      version: '1',
      description: 'Monitors, reactions, their state, history and events, and the whole configuration as one document. ' +
        'Send an API key as "Authorization: Bearer <key>" (create one with "cloudroutes apikey create").',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from "cloudroutes apikey create"' } } },
    security: [{ apiKey: [] }],
    paths,
  };
}

/** /api/v1/config: the whole configuration as one YAML or JSON document, and apply of such a document. */
import type { FastifyInstance } from 'fastify';
import { shownRecord } from '../../core/shown-data.js';
import { applyDocument, exportDocument, NO_SECRETS_NOTE, parseDocument, renderDocument, type DocumentFormat } from '../../manage/config-io.js';
import { configDocumentSchema } from '../../manage/input-schemas.js';
import { configService, type WebDeps } from '../deps.js';
import { applyReportSchema, errorResponses } from './api-schemas.js';
import { readOnly } from './crud.js';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const MEDIA: Record<DocumentFormat, string> = { json: 'application/json; charset=utf-8', yaml: 'application/yaml; charset=utf-8' };

/** Registers GET and POST /api/v1/config and, for them only, a YAML body parser. */
export async function configRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseDocument(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.get<{ Querystring: { format: DocumentFormat } }>('/api/v1/config', {
    schema: {
      summary: 'Export the whole configuration', tags: ['config'],
      description: 'Reactions and monitors with their ids, as "cloudroutes export" writes them; secret values stay encrypted (enc:v2:…) and work with the same CLOUDROUTES_SECRET_KEY; a read-only API key gets them left out.',
      querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'yaml'], default: 'json' } }, additionalProperties: false },
      response: {
        200: { description: 'the document', content: { 'application/json': { schema: configDocumentSchema }, 'application/yaml': { schema: { type: 'string' } } } },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const { format } = request.query;
    const doc = await exportDocument(await deps.store());
    if (!readOnly(request)) return reply.type(MEDIA[format]).send(renderDocument(doc, format));
    const [reactions, monitors] = await Promise.all([Promise.all(doc.reactions.map((r) => shownRecord(deps, r, true))), Promise.all(doc.monitors.map((m) => shownRecord(deps, m, true)))]);
    return reply.type(MEDIA[format]).send(renderDocument({ ...doc, reactions, monitors }, format, NO_SECRETS_NOTE));
  });

  app.post<{ Querystring: { prune: boolean; dryRun: boolean } }>('/api/v1/config', {
    schema: {
      summary: 'Apply a configuration document', tags: ['config'],
      description: 'Creates what is missing, updates what differs, leaves what is the same; with prune, removes what the document does not list. ' +
        'The whole document is checked first: with any problem nothing changes (400 naming the item and field).',
      querystring: {
        type: 'object',
        properties: {
          prune: { type: 'boolean', default: false, description: 'remove the monitors and reactions the document does not list' },
          dryRun: { type: 'boolean', default: false, description: 'only report what would change' },
        },
        additionalProperties: false,
      },
      body: { content: { 'application/json': { schema: configDocumentSchema }, 'application/yaml': { schema: configDocumentSchema } } },
      response: { 200: applyReportSchema, ...errorResponses },
    },
  }, async (request) => applyDocument(await configService(deps), await deps.store(), request.body, request.query));
}

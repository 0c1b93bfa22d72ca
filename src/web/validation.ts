/**
 * Request validation for the API's routes. Bodies are checked strictly: no type coercion (`"trigger": true` is
 * refused, not read as 1) and unknown fields refused, not dropped. Path and query values arrive as text, so numbers
 * and booleans there are converted.
 */
import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const bodies = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false });
const urlParts = new Ajv({ coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false });

/** The validator compiler of the API route groups (`app.setValidatorCompiler`). */
export const apiValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodies : urlParts).compile(schema as object);

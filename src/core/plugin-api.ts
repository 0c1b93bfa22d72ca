/** What a plug-in module imports from `cloudroutes`: the contract's types, the template helpers reactions use and schema helpers. */
export type * from './types.js';
export { render, renderJson, TEMPLATE_FIELDS } from './template.js';
export { exactlyOneOf } from './schema.js';

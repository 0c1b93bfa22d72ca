/** What a plug-in module imports from `cloudroutes`: the contract's types and the template helpers reactions use. */
export type * from './types.js';
export { render, renderJson, TEMPLATE_FIELDS } from './template.js';

/** `node --import cloudroutes/testing/register my.test.ts`: TypeScript files under the current folder load as plug-ins do. */
import { enableTypeScript } from '../core/typescript-modules.js';

enableTypeScript([process.cwd()]);

/** Every route group of the web process, registered in this order. */
import type { FastifyInstance } from 'fastify';
import type { WebDeps } from '../deps.js';
import { apiRoutes } from './api.js';
import { dashboardRoutes } from './dashboard.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { modulesRoutes } from './modules.js';
import { toldRoutes } from './told.js';

export type RouteGroup = (app: FastifyInstance, deps: WebDeps) => Promise<void>;

export const ROUTES: RouteGroup[] = [modulesRoutes, apiRoutes, healthRoutes, metricsRoutes, toldRoutes, dashboardRoutes];

/** GET /metrics: the zone's monitors, counters and schedule lag from Redis, and this process's own, in Prometheus text format. */
import type { FastifyInstance } from 'fastify';
import { registerZoneMetrics, ZoneReader } from '../../core/metrics-zone.js';
import type { WebDeps } from '../deps.js';

export async function metricsRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  registerZoneMetrics(deps.metrics, new ZoneReader(deps.redis, deps.settings.zone, deps.settings.backlogMax), deps.zoneMetrics);
  // Open by default, as Prometheus scrapers expect; `cloudroutes web --metrics-need-key` asks for a (read) API key.
  app.get('/metrics', { config: { access: deps.metricsNeedKey ? 'read' : 'public' } }, async (_request, reply) => {
    const text = await deps.metrics.metrics();
    return reply.header('content-type', deps.metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../database/client.js';

/** Prometheus metrics: process defaults, HTTP latency, and fleet state read at scrape time. */
export function createMetrics(db: Database) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'loa_' });
  const httpDuration = new Histogram({
    name: 'loa_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const ingestRejected = new Counter({
    name: 'loa_ingest_rejected_total',
    help: 'Receiver messages refused by the ingest, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  new Gauge({
    name: 'loa_receivers',
    help: 'Enabled receivers by online state',
    labelNames: ['online'],
    registers: [registry],
    async collect() {
      const rows = await db.receiver.groupBy({ by: ['online'], where: { enabled: true }, _count: true });
      this.reset();
      for (const r of rows) this.set({ online: String(r.online) }, r._count);
    },
  });
  new Gauge({
    name: 'loa_deliveries',
    help: 'Deliveries by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const rows = await db.delivery.groupBy({ by: ['state'], _count: true });
      this.reset();
      for (const r of rows) this.set({ state: r.state }, r._count);
    },
  });
  return { registry, httpDuration, ingestRejected };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Times every request; add on the root instance so it sees all routes. */
export function observeHttp(metrics: Metrics) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  };
}

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
      },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};

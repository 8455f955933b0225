import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { ALL_ROLES, requireScope } from '../access/scope.js';
import type { Database } from '../database/client.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';

const DAY_MS = 86_400_000;
const DEFAULT_LIMIT = 2000;
const nullableNumber = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

export const TelemetryPointSchema = Type.Object({
  at: Type.String({ format: 'date-time', description: 'When the controller received the report' }),
  batteryPct: nullableNumber('Battery charge, %; null when not reported'),
  batteryV: nullableNumber('Battery voltage; null when not reported'),
  mains: Type.Boolean({ description: 'On mains power' }),
  rssiDbm: nullableNumber('Mobile signal strength, dBm; null when not reported'),
  networkType: Type.String({ description: '2g, 3g, 4g, 5g, ethernet, wifi or unknown' }),
  temperatureC: nullableNumber('Enclosure temperature; null when not reported'),
  volume: Type.Number({ description: 'Volume 0-100' }),
  amplifierOn: Type.Boolean(),
  cacheBytesFree: Type.Number({ description: 'Free space of the content cache, bytes' }),
  clockOffsetMs: Type.Number({ description: 'Estimated controller time minus the receiver clock' }),
  faults: Type.Array(Type.String(), { description: 'Faults latched when the report was made' }),
});
type TelemetryPoint = Static<typeof TelemetryPointSchema>;

/** A stored Telemetry message (validated by protocols when it came in) as one chart point. */
function toPoint(at: Date, values: unknown): TelemetryPoint {
  const v = (values ?? {}) as {
    power?: { mains?: boolean; batteryPct?: number; batteryV?: number };
    network?: { type?: string; rssiDbm?: number };
    audio?: { volume?: number; amplifierOn?: boolean };
    cache?: { bytesFree?: number };
    clock?: { offsetMs?: number };
    temperatureC?: number;
    faults?: string[];
  };
  return {
    at: at.toISOString(),
    batteryPct: v.power?.batteryPct ?? null,
    batteryV: v.power?.batteryV ?? null,
    mains: v.power?.mains ?? false,
    rssiDbm: v.network?.rssiDbm ?? null,
    networkType: v.network?.type ?? 'unknown',
    temperatureC: v.temperatureC ?? null,
    volume: v.audio?.volume ?? 0,
    amplifierOn: v.audio?.amplifierOn ?? false,
    cacheBytesFree: v.cache?.bytesFree ?? 0,
    clockOffsetMs: v.clock?.offsetMs ?? 0,
    faults: v.faults ?? [],
  };
}

/**
 * The receiver's samples in [from, to], oldest first. When more than `limit` fall in the
 * range, the n samples are split into `limit` equal runs and the last of each is kept, so
 * the points spread over the whole range (gaps stay gaps) and the newest is always there.
 */
export async function telemetryHistory(
  db: Database,
  receiverId: string,
  range: { from: Date; to: Date; limit: number },
): Promise<TelemetryPoint[]> {
  const limit = range.limit;
  const rows = await db.$queryRaw<Array<{ at: Date; values: unknown }>>`
    WITH ranked AS (
      SELECT id, row_number() OVER (ORDER BY at, id) AS rn, count(*) OVER () AS n
      FROM "TelemetrySample"
      WHERE "receiverId" = ${receiverId} AND at >= ${range.from} AND at <= ${range.to}
    )
    SELECT t.at, t."values"
    FROM ranked r JOIN "TelemetrySample" t ON t.id = r.id
    WHERE r.n <= ${limit}::int OR (r.rn * ${limit}::int) / r.n <> ((r.rn - 1) * ${limit}::int) / r.n
    ORDER BY t.at, t.id`;
  return rows.map((row) => toPoint(row.at, row.values));
}

/** Telemetry history of one receiver, for the technicians' charts. */
export const receiverTelemetryRoutes: FastifyPluginAsyncTypebox<{ db: Database; now?: () => Date }> = async (
  app,
  { db, now = () => new Date() },
) => {
  app.get(
    '/receivers/:id/telemetry',
    {
      schema: {
        tags: ['receivers'],
        summary: "A receiver's telemetry history (battery, signal, temperature, ...), oldest first",
        description:
          'The telemetry samples kept for the receiver in [from, to] (default: the last 24 h): one report every TELEMETRY_SAMPLE_S seconds, and every report whose faults changed, kept for TELEMETRY_RETENTION_DAYS days. When more reports than `limit` fall in the range they are thinned evenly (the last of every equal run of samples is kept, the newest always), so the points still cover the whole range.',
        params: Type.Object({ id: Type.String() }),
        querystring: Type.Object({
          from: Type.Optional(
            Type.String({ format: 'date-time', description: 'Samples at or after (default: 24 h before `to`)' }),
          ),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Samples at or before (default: now)' })),
          limit: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 10_000,
              default: DEFAULT_LIMIT,
              description:
                'Most points answered (default 2000); more samples in the range are thinned evenly to this many',
            }),
          ),
        }),
        response: {
          200: Type.Object({ items: Type.Array(TelemetryPointSchema) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const receiver = await db.receiver.findUnique({ where: { id: request.params.id }, include: { village: true } });
      if (!receiver) throw notFound(`no receiver ${request.params.id}`);
      requireScope(request.principal, ALL_ROLES, receiver.village);
      const to = request.query.to ? new Date(request.query.to) : now();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - DAY_MS);
      if (from > to)
        throw new Problem(400, 'Bad Request', `from (${from.toISOString()}) is after to (${to.toISOString()})`);
      return {
        items: await telemetryHistory(db, receiver.id, { from, to, limit: request.query.limit ?? DEFAULT_LIMIT }),
      };
    },
  );
};

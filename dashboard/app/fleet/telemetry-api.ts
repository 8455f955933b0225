import { api } from '../api/client.ts';
import { must } from '../api/problem.ts';
import type { paths } from '../api/schema';

/** One stored telemetry report (GET /receivers/{id}/telemetry answers them oldest first). */
export type TelemetrySample =
  paths['/receivers/{id}/telemetry']['get']['responses'][200]['content']['application/json']['items'][number];

/** The receiver's telemetry history in [from, to], thinned by the controller to at most `limit` points. */
export async function fetchTelemetry(
  receiverId: string,
  query: { from: Date; to: Date; limit: number },
): Promise<TelemetrySample[]> {
  const answer = await must(
    api.GET('/receivers/{id}/telemetry', {
      params: {
        path: { id: receiverId },
        query: { from: query.from.toISOString(), to: query.to.toISOString(), limit: query.limit },
      },
    }),
  );
  return answer.items;
}

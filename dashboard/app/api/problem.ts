/** An RFC 9457 problem answer, as every controller error is. */
export interface Problem {
  status?: number;
  title?: string;
  detail?: string;
  reason?: string;
  [key: string]: unknown;
}

/** Thrown by `must` when the controller refused; `message` is the controller's own detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/**
 * The data of an openapi-fetch answer, or an ApiError carrying the controller's problem
 * detail (which says what to do), so pages show it instead of a generic failure.
 */
export async function must<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    const problem = (typeof error === 'object' && error !== null ? error : { detail: String(error ?? '') }) as Problem;
    throw new ApiError(response.status, problem);
  }
  return data as NonNullable<T>;
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

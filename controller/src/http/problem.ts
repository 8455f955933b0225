import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { describe } from './validation-errors.js';

/** An error that becomes an RFC 9457 problem+json response. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export const forbidden = (detail: string) => new Problem(403, 'Forbidden', detail);
export const notFound = (detail: string) => new Problem(404, 'Not Found', detail);
export const unauthorized = (detail = 'sign in first: POST /auth/login with your username and password') =>
  new Problem(401, 'Unauthorized', detail);

/** Every error leaves as application/problem+json; internals are logged, never shown. */
export function problemHandler(error: FastifyError | Problem, request: FastifyRequest, reply: FastifyReply) {
  let body: Record<string, unknown>;
  if (error instanceof Problem) {
    body = { type: 'about:blank', title: error.title, status: error.status, detail: error.detail, ...error.extra };
  } else if (error.validation) {
    body = {
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: error.message,
      errors: error.validation.map((v) => ({ path: v.instancePath, message: describe(v) })),
    };
  } else if (error.statusCode && error.statusCode < 500) {
    body = {
      type: 'about:blank',
      title: STATUS_CODES[error.statusCode] ?? 'Error',
      status: error.statusCode,
      detail: error.message,
    };
  } else {
    request.log.error({ err: error }, 'request failed');
    body = { type: 'about:blank', title: 'Internal Server Error', status: 500 };
  }
  reply
    .status(body.status as number)
    .type('application/problem+json')
    .send({ ...body, instance: request.url });
}

/** RFC 9457 problem; extension members (errors, conflicts, currentEtag, ...) pass through. */
export const ProblemSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'For invalid requests: each invalid field and what is wrong with it',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } },
      },
    },
  },
  required: ['title', 'status'],
  additionalProperties: true,
} as const;

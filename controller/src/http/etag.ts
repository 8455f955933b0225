import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from './problem.js';

/**
 * ETags for single resources. A GET answers 304 when the caller's copy is current
 * (dashboards poll receivers and schedules); a change with If-Match is refused with
 * 412 when someone else changed the resource first, so two officials editing the same
 * schedule cannot silently overwrite each other.
 */
export function etagOf(representation: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(representation)).digest('base64url').slice(0, 27);
  return `"${digest}"`;
}

/** Sets the ETag; returns true when the request's If-None-Match already names it (send 304). */
export function notModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag);
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Refuses a change (412) when If-Match is given and names another version. */
export function requireCurrent(request: FastifyRequest, etag: string): void {
  const header = request.headers['if-match'];
  if (!header || header === '*') return;
  if (!header.split(',').some((tag) => tag.trim() === etag)) {
    throw new Problem(
      412,
      'Precondition Failed',
      'the resource changed since you read it; fetch it again, re-apply your change and resend with the new ETag',
      { currentEtag: etag },
    );
  }
}

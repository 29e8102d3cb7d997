import type { FastifyReply } from 'fastify';
import { DomainError, ErrorCode, httpStatusOf, type ErrorCode as Code } from '../errors/index.js';

/** RFC 9457 problem details, the body of every HTTP error outside GraphQL. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: Code;
  readonly detail: string;
  readonly [extra: string]: unknown;
}

const TITLES: Readonly<Record<Code, string>> = {
  BAD_USER_INPUT: 'Bad request',
  UNAUTHENTICATED: 'Unauthenticated',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  UNPROCESSABLE_IMAGE: 'Unprocessable image',
  LIMIT_EXCEEDED: 'Limit exceeded',
  RATE_LIMITED: 'Too many requests',
  QUOTA_EXCEEDED: 'Quota exceeded',
  GONE: 'Gone',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  INTERNAL_SERVER_ERROR: 'Internal server error',
};

export function problemOf(code: Code, detail: string, extra: Record<string, unknown> = {}): Problem {
  return {
    type: `https://tessera.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[code],
    status: httpStatusOf[code],
    code,
    detail,
    ...extra,
  };
}

/** Sends a domain error as `application/problem+json` with its status (and `Retry-After`). */
export function sendProblem(reply: FastifyReply, error: DomainError | Problem): FastifyReply {
  const problem =
    error instanceof DomainError ? problemOf(error.code, error.message, error.details ?? {}) : error;
  if (error instanceof DomainError && error.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  return reply
    .code(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(JSON.stringify(problem));
}

export const internalProblem = (): Problem => problemOf(ErrorCode.Internal, 'Internal server error.');

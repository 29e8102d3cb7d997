/**
 * Domain errors: a stable machine code, a public message safe to show to clients, and optional
 * details. Only the edges (`http/`, `graphql/`) turn them into statuses or `extensions.code`.
 */

/** Stable error codes, shared by GraphQL (`extensions.code`) and HTTP problem documents. */
export const ErrorCode = {
  BadUserInput: 'BAD_USER_INPUT',
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  UnprocessableImage: 'UNPROCESSABLE_IMAGE',
  LimitExceeded: 'LIMIT_EXCEEDED',
  RateLimited: 'RATE_LIMITED',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  Gone: 'GONE',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code, used by the HTTP edge (problem+json) and GraphQL HTTP status. */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_IMAGE: 422,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  GONE: 410,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

export interface DomainErrorOptions {
  /** Extra machine-readable fields shown to clients (e.g. the offending token, a limit). */
  details?: Readonly<Record<string, unknown>>;
  /** Seconds after which a retry may succeed (rate limits, overload). */
  retryAfterSeconds?: number;
  /** Internal cause; logged, never shown to clients. */
  cause?: unknown;
}

/** An error whose message is public and whose code is stable. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, publicMessage: string, options: DomainErrorOptions = {}) {
    super(publicMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return httpStatusOf[this.code];
  }
}

export const badInput = (message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError(ErrorCode.BadUserInput, message, { details });

export const unauthenticated = (message = 'A valid API key or token is required.'): DomainError =>
  new DomainError(ErrorCode.Unauthenticated, message);

export const forbidden = (message: string): DomainError => new DomainError(ErrorCode.Forbidden, message);

/** The one answer for unknown ids and ids the principal may not see: the two are indistinguishable. */
export const notFound = (kind: string, id?: string): DomainError =>
  new DomainError(ErrorCode.NotFound, id === undefined ? `${kind} not found.` : `${kind} ${id} not found.`);

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/** Socket and DNS error codes that mean a service could not be reached, or went away mid-request. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs of a server that cannot serve now: class 08 (connection exception),
 * 57P01–57P03 (shut down by the administrator or a crash, or still starting), 53300 (too many
 * connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/**
 * True when `error` (or an error it wraps: `cause`, `driverError`, the first of an AggregateError)
 * says a service could not be reached or is shutting down, by its error code: a failure of the
 * infrastructure, not of the request.
 */
export function isConnectionFailure(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause, driverError, errors } = current as {
      code?: unknown;
      cause?: unknown;
      driverError?: unknown;
      errors?: unknown;
    };
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
      return true;
    current = driverError ?? cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return false;
}

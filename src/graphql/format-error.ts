import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { isDomainError, ErrorCode } from '../errors/index.js';
import { dependencyUnavailable } from '../http/unavailable.js';

/** Codes Apollo itself produces for malformed requests; passed through as they are. */
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

const OWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export interface ErrorReporter {
  (error: unknown, formatted: GraphQLFormattedError): void;
}

/** Walks `originalError` links to the error a resolver threw. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 10; i += 1) {
    if (
      current instanceof GraphQLError &&
      current.originalError !== undefined &&
      current.originalError !== null
    ) {
      current = current.originalError;
    } else {
      break;
    }
  }
  return current;
}

/**
 * Maps errors to the contract: domain errors keep their code and public message; a dependency that
 * is down (registry, storage) is SERVICE_UNAVAILABLE with `retryAfter`; Apollo's own request errors
 * pass through; anything else is masked as INTERNAL_SERVER_ERROR and reported.
 */
export function createFormatError(report: ErrorReporter) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const cause = rootCause(error);
    if (isDomainError(cause)) {
      return {
        message: cause.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          code: cause.code,
          ...(cause.details ? { details: cause.details } : {}),
          ...(cause.retryAfterSeconds !== undefined ? { retryAfter: cause.retryAfterSeconds } : {}),
        },
      };
    }
    const down = dependencyUnavailable(cause);
    if (down) {
      report(cause, formatted);
      return {
        message: down.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          code: down.code,
          ...(down.details ? { details: down.details } : {}),
          retryAfter: down.retryAfterSeconds,
        },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && REQUEST_CODES.has(code)) return formatted;
    // Errors the server raises itself before execution (query limits) carry one of our codes.
    if (
      cause instanceof GraphQLError &&
      cause.originalError == null &&
      typeof code === 'string' &&
      OWN_CODES.has(code)
    ) {
      const { http: _http, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (cause instanceof GraphQLError && cause.originalError === undefined && code === undefined) {
      // Errors graphql-js raises itself while executing (e.g. a variable of the wrong type).
      return { ...formatted, extensions: { code: ErrorCode.BadUserInput } };
    }
    report(cause, formatted);
    return {
      message: 'Internal server error.',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.Internal },
    };
  };
}

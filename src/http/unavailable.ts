import { DomainError, ErrorCode, isConnectionFailure } from '../errors/index.js';
import { StorageUnavailableError } from '../storage/errors.js';

/** Seconds a client is told to wait before retrying while a dependency is down. */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/**
 * The SERVICE_UNAVAILABLE answer (503, `Retry-After`) for an error that says a service Tessera
 * depends on is down — the object store (`StorageUnavailableError`) or one that cannot be reached
 * (`isConnectionFailure`: the registry, most often) — or undefined for any other error.
 */
export function dependencyUnavailable(error: unknown): DomainError | undefined {
  if (error instanceof StorageUnavailableError) {
    return new DomainError(ErrorCode.ServiceUnavailable, 'Storage is unavailable right now; retry shortly.', {
      details: { dependency: 'storage' },
      retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS,
      cause: error,
    });
  }
  if (isConnectionFailure(error)) {
    return new DomainError(
      ErrorCode.ServiceUnavailable,
      'A service Tessera depends on is unavailable right now; retry shortly.',
      { retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS, cause: error },
    );
  }
  return undefined;
}

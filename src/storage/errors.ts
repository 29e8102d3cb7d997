/**
 * Typed errors of the object storage adapters. Adapters throw only these (and `RangeError` for
 * arguments that break a documented precondition); the edges decide what they mean to clients.
 */

const subject = (key: string | undefined): string => (key === undefined ? 'The body' : `Object ${key}`);

/** Base class of every storage error; `key` names the object concerned, when there is one. */
export class StorageError extends Error {
  readonly key: string | undefined;

  constructor(message: string, options: { key?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.key = options.key;
  }
}

/** The object does not exist (or vanished while it was being read). */
export class ObjectNotFoundError extends StorageError {
  constructor(key: string, options: { cause?: unknown } = {}) {
    super(`Object ${key} not found.`, { key, cause: options.cause });
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * The object is there but not whole (a local object cut short by a crash before it reached the
 * disk): its bytes must not be served. Re-creatable objects are made again.
 */
export class ObjectDamagedError extends StorageError {
  constructor(message: string, key: string) {
    super(message, { key });
    this.name = 'ObjectDamagedError';
  }
}

/** An object or a body is larger than the caller's limit. `bytes` is the size when known. */
export class ObjectTooLargeError extends StorageError {
  readonly maxBytes: number;
  readonly bytes: number | undefined;

  constructor(key: string | undefined, maxBytes: number, bytes?: number) {
    super(
      `${subject(key)} ${bytes === undefined ? 'is larger than' : `has ${bytes} bytes, more than`} ${maxBytes} bytes.`,
      { key },
    );
    this.name = 'ObjectTooLargeError';
    this.maxBytes = maxBytes;
    this.bytes = bytes;
  }
}

/** A body is smaller than the caller's lower bound (e.g. a presigned upload's minimum). */
export class ObjectTooSmallError extends StorageError {
  readonly minBytes: number;
  readonly bytes: number;

  constructor(key: string | undefined, minBytes: number, bytes: number) {
    super(`${subject(key)} has ${bytes} bytes, fewer than ${minBytes}.`, { key });
    this.name = 'ObjectTooSmallError';
    this.minBytes = minBytes;
    this.bytes = bytes;
  }
}

/** A body's length differs from the length the caller declared (`bytes` of `write`). */
export class ObjectSizeMismatchError extends StorageError {
  readonly expectedBytes: number;
  readonly actualBytes: number;

  constructor(key: string, expectedBytes: number, actualBytes: number) {
    super(
      `Object ${key}: ${expectedBytes} bytes were declared, the body has ${actualBytes > expectedBytes ? `more than ${expectedBytes}` : actualBytes}.`,
      { key },
    );
    this.name = 'ObjectSizeMismatchError';
    this.expectedBytes = expectedBytes;
    this.actualBytes = actualBytes;
  }
}

/** A byte range starts at or beyond the end of the object (HTTP 416 at the edge). */
export class ObjectRangeNotSatisfiableError extends StorageError {
  /** Size of the object in bytes, when known. */
  readonly size: number | undefined;

  constructor(key: string, size?: number, options: { cause?: unknown } = {}) {
    super(`Range not satisfiable for object ${key}${size === undefined ? '' : ` of ${size} bytes`}.`, {
      key,
      cause: options.cause,
    });
    this.name = 'ObjectRangeNotSatisfiableError';
    this.size = size;
  }
}

/** A key or prefix breaks the key grammar, or would resolve outside the storage root. */
export class InvalidObjectKeyError extends StorageError {
  /** Why the key was refused, in a few words. */
  readonly reason: string;

  constructor(key: string, reason: string) {
    super(
      `Invalid object key ${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)}: ${reason}.`,
      { key },
    );
    this.name = 'InvalidObjectKeyError';
    this.reason = reason;
  }
}

/** The store cannot be reached or refuses us (network, credentials, missing bucket, disk). */
export class StorageUnavailableError extends StorageError {
  constructor(message: string, options: { key?: string; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** Why a local signed upload form was refused; see `verifyLocalPostPolicy`. */
export type UploadPolicyFailure =
  'malformed' | 'bad-signature' | 'expired' | 'wrong-key' | 'wrong-content-type';

/** A local signed upload form failed verification. */
export class UploadPolicyError extends StorageError {
  readonly reason: UploadPolicyFailure;

  constructor(reason: UploadPolicyFailure, message: string, options: { key?: string } = {}) {
    super(message, options);
    this.name = 'UploadPolicyError';
    this.reason = reason;
  }
}

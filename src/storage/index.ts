/** Object storage: the `ObjectStore` port, its S3 and local-disk adapters, and their typed errors. */
export type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PresignedPost,
  PresignPostOptions,
  WriteOptions,
} from './object-store.js';
export {
  InvalidObjectKeyError,
  ObjectDamagedError,
  ObjectNotFoundError,
  ObjectRangeNotSatisfiableError,
  ObjectSizeMismatchError,
  ObjectTooLargeError,
  ObjectTooSmallError,
  StorageError,
  StorageUnavailableError,
  UploadPolicyError,
  type UploadPolicyFailure,
} from './errors.js';
export {
  assertKeyPrefix,
  assertObjectKey,
  isObjectKey,
  MAX_OBJECT_KEY_LENGTH,
  MAX_OBJECT_KEY_SEGMENT_LENGTH,
} from './object-key.js';
export { assertContentType, MAX_PRESIGNED_POST_BYTES, MAX_PRESIGNED_POST_SECONDS } from './arguments.js';
export { byteLimit, collectStream, type ByteLimitOptions, type ByteLimitStream } from './streams.js';
export { LocalObjectStore, LOCAL_UPLOAD_PATH, type LocalObjectStoreOptions } from './local-store.js';
export {
  formField,
  MIN_UPLOAD_SECRET_BYTES,
  verifyLocalPostPolicy,
  type LocalPostPolicy,
  type UploadFormFields,
} from './local-post-policy.js';
export {
  S3ObjectStore,
  S3_DEFAULT_PART_BYTES,
  S3_MIN_PART_BYTES,
  type S3ObjectStoreOptions,
} from './s3-store.js';

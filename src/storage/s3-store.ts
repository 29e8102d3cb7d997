/**
 * Object storage on any S3 API: AWS S3, MinIO, Cloudflare R2, GCS interoperability, Ceph.
 *
 * Writes never stream an HTTP body of unknown length: the body is read in parts of
 * `partSizeBytes` (default 8 MiB). A body shorter than one part is stored with one PutObject; a
 * longer one with a multipart upload, one part in memory at a time, aborted on failure. Every
 * request body is thus a buffer of known length, which the SDK can retry.
 *
 * Compatibility: by default the client computes request checksums only where S3 requires them
 * (`checksums: 'when-required'`): many S3-compatible servers do not understand the
 * `aws-chunked` trailing checksums the SDK sends otherwise, and store them inside the object.
 * DeleteObjects also carries `Content-MD5`, which some of them require.
 *
 * SDK errors are mapped by their structured fields (`name`, `$metadata.httpStatusCode`) to the
 * typed storage errors. On AWS, grant `s3:ListBucket`, or a missing object answers 403 instead of
 * 404 and reads as `StorageUnavailableError`.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type BucketLocationConstraint,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import {
  assertByteRange,
  assertMaxBytes,
  assertWriteOptions,
  resolvePresignPostOptions,
} from './arguments.js';
import {
  ObjectNotFoundError,
  ObjectRangeNotSatisfiableError,
  ObjectSizeMismatchError,
  ObjectTooLargeError,
  StorageError,
  StorageUnavailableError,
} from './errors.js';
import { assertKeyPrefix, assertObjectKey, isObjectKey } from './object-key.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PresignedPost,
  PresignPostOptions,
  WriteOptions,
} from './object-store.js';
import { chunkToBuffer, collectStream } from './streams.js';

const MiB = 1024 * 1024;

/** Smallest part of a multipart upload S3 accepts (all parts but the last), in bytes. */
export const S3_MIN_PART_BYTES = 5 * MiB;

/** Default part size, in bytes: the most a write holds in memory. */
export const S3_DEFAULT_PART_BYTES = 8 * MiB;

/** Largest part S3 accepts, in bytes. */
export const S3_MAX_PART_BYTES = 5 * 1024 * MiB;

/** Most parts of one multipart upload. */
const S3_MAX_PARTS = 10_000;

/** Most keys in one DeleteObjects request. */
const S3_DELETE_BATCH = 1000;

/** Options of `S3ObjectStore`. */
export interface S3ObjectStoreOptions {
  /** Bucket holding the objects. */
  bucket: string;
  /** Region, e.g. `us-east-1` (`auto` for R2). */
  region: string;
  /** S3 API endpoint for the server's own requests, e.g. `http://minio:9000`. Default: AWS. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by MinIO and most S3-compatible servers. */
  forcePathStyle: boolean;
  /** Static credentials. Default: the AWS default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Endpoint as browsers reach it, used in presigned POST URLs. Default: `endpoint`. */
  publicEndpoint?: string;
  /** Size of the parts a write is read and sent in, in bytes (5 MiB … 5 GiB). Default: 8 MiB. */
  partSizeBytes?: number;
  /** When the SDK adds request checksums: `when-required` (default, widest compatibility) or `when-supported` (AWS). */
  checksums?: 'when-required' | 'when-supported';
  /** Attempts per request, including the first, for retryable failures. Default: 3. */
  maxAttempts?: number;
  /** Time to establish a connection, in milliseconds. Default: 5000. */
  connectionTimeoutMs?: number;
}

const metadataStatus = (error: unknown): number | undefined => {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
};

/** The name of an SDK or network error (checked by shape: network errors may come from another realm). */
const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
    ? error.name
    : undefined;

const unquote = (etag: string | undefined): string | undefined =>
  etag === undefined ? undefined : etag.replace(/^(W\/)?"|"$/g, '');

const isHttpRequestLike = (request: unknown): request is { headers: Record<string, string>; body: unknown } =>
  typeof request === 'object' &&
  request !== null &&
  'headers' in request &&
  typeof (request as { headers: unknown }).headers === 'object';

/** Objects in one S3 bucket; see the module documentation. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  /** The bucket. */
  readonly bucket: string;
  /** The SDK client (for setup and diagnostics); requests go through the store's methods. */
  readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly partSize: number;
  private readonly region: string;

  /** @throws RangeError when `partSizeBytes` is outside 5 MiB … 5 GiB. */
  constructor(options: S3ObjectStoreOptions) {
    const partSize = options.partSizeBytes ?? S3_DEFAULT_PART_BYTES;
    if (!Number.isSafeInteger(partSize) || partSize < S3_MIN_PART_BYTES || partSize > S3_MAX_PART_BYTES) {
      throw new RangeError(
        `Expected integer between ${S3_MIN_PART_BYTES} and ${S3_MAX_PART_BYTES} for partSizeBytes but received ${partSize}`,
      );
    }
    const checksums = options.checksums === 'when-supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: checksums,
      responseChecksumValidation: checksums,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: options.connectionTimeoutMs ?? 5000 },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    };
    this.bucket = options.bucket;
    this.region = options.region;
    this.partSize = partSize;
    this.client = new S3Client(config);
    this.presignClient =
      options.publicEndpoint === undefined || options.publicEndpoint === options.endpoint
        ? this.client
        : new S3Client({ ...config, endpoint: options.publicEndpoint });
  }

  /** Maps an SDK or network error to a storage error. */
  private toStorageError(error: unknown, key: string | undefined, action: string): StorageError {
    if (error instanceof StorageError) return error;
    const status = metadataStatus(error);
    const name = errorName(error);
    if (name === 'NoSuchBucket') {
      return new StorageUnavailableError(`S3 bucket ${this.bucket} does not exist.`, { key, cause: error });
    }
    if (key !== undefined && (name === 'NoSuchKey' || name === 'NotFound' || status === 404)) {
      return new ObjectNotFoundError(key, { cause: error });
    }
    if (key !== undefined && (name === 'InvalidRange' || status === 416)) {
      return new ObjectRangeNotSatisfiableError(key, undefined, { cause: error });
    }
    const detail = `${name ?? 'error'}${status === undefined ? '' : ` ${status}`}`;
    const message = `S3 could not ${action}${key === undefined ? '' : ` ${key}`} in bucket ${this.bucket} (${detail}).`;
    if (
      status === undefined ||
      status >= 500 ||
      status === 401 ||
      status === 403 ||
      status === 429 ||
      status === 404
    ) {
      return new StorageUnavailableError(message, { key, cause: error });
    }
    return new StorageError(message, { key, cause: error });
  }

  private async send<T>(action: string, key: string | undefined, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.toStorageError(error, key, action);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertObjectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        bytes: head.ContentLength ?? 0,
        ...(head.ContentType === undefined ? {} : { contentType: head.ContentType }),
        ...(head.ETag === undefined ? {} : { etag: unquote(head.ETag) }),
        ...(head.LastModified === undefined ? {} : { lastModified: head.LastModified }),
        ...(head.CacheControl === undefined ? {} : { cacheControl: head.CacheControl }),
      };
    } catch (error) {
      const mapped = this.toStorageError(error, key, 'stat');
      if (mapped instanceof ObjectNotFoundError) return undefined;
      throw mapped;
    }
  }

  /** The body of a GET, its length, and the object's full size when the answer states it. */
  private async getBody(
    key: string,
    range: ByteRange | undefined,
  ): Promise<{ body: Readable; bytes: number | undefined; size: number | undefined }> {
    const output = await this.send('read', key, () =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
      ),
    );
    if (!(output.Body instanceof Readable)) {
      throw new StorageError(`S3 returned no readable body for ${key}.`, { key });
    }
    const total = /\/(\d+)$/.exec(output.ContentRange ?? '')?.[1];
    return {
      body: output.Body,
      bytes: output.ContentLength,
      size: total === undefined ? undefined : Number(total),
    };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertObjectKey(key);
    if (range === undefined) return (await this.getBody(key, undefined)).body;
    assertByteRange(range);
    const { body, size } = await this.getBody(key, range);
    // S3 answers 416 itself; some compatible servers answer an empty object's range with a 206.
    if (size !== undefined && range.start >= size) {
      body.destroy();
      throw new ObjectRangeNotSatisfiableError(key, size);
    }
    return body;
  }

  async readBuffer(key: string, maxBytes?: number): Promise<Buffer> {
    assertObjectKey(key);
    if (maxBytes !== undefined) assertMaxBytes(maxBytes);
    const { body, bytes } = await this.getBody(key, undefined);
    if (maxBytes !== undefined && bytes !== undefined && bytes > maxBytes) {
      body.destroy();
      throw new ObjectTooLargeError(key, maxBytes, bytes);
    }
    try {
      return await collectStream(body, maxBytes, key);
    } catch (error) {
      if (error instanceof ObjectTooLargeError) throw error;
      throw this.toStorageError(error, key, 'read');
    }
  }

  /** The body in parts of `partSize` bytes (the last may be shorter; an empty body is one empty part). */
  private async *parts(
    key: string,
    body: Readable | Buffer,
    declared: number | undefined,
  ): AsyncGenerator<Buffer> {
    if (Buffer.isBuffer(body)) {
      if (declared !== undefined && declared !== body.length)
        throw new ObjectSizeMismatchError(key, declared, body.length);
      if (body.length === 0) yield body;
      for (let offset = 0; offset < body.length; offset += this.partSize)
        yield body.subarray(offset, offset + this.partSize);
      return;
    }
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    let yielded = false;
    for await (const chunk of body) {
      let buffer = chunkToBuffer(chunk);
      total += buffer.length;
      if (declared !== undefined && total > declared) throw new ObjectSizeMismatchError(key, declared, total);
      while (pendingBytes + buffer.length >= this.partSize) {
        const take = this.partSize - pendingBytes;
        pending.push(buffer.subarray(0, take));
        buffer = buffer.subarray(take);
        yield Buffer.concat(pending, this.partSize);
        yielded = true;
        pending = [];
        pendingBytes = 0;
      }
      if (buffer.length > 0) {
        pending.push(buffer);
        pendingBytes += buffer.length;
      }
    }
    if (declared !== undefined && total !== declared) throw new ObjectSizeMismatchError(key, declared, total);
    if (pendingBytes > 0 || !yielded) yield Buffer.concat(pending, pendingBytes);
  }

  async write(key: string, body: Readable | Buffer, options: WriteOptions): Promise<ObjectInfo> {
    assertObjectKey(key);
    assertWriteOptions(options);
    const common = {
      Bucket: this.bucket,
      Key: key,
      ContentType: options.contentType,
      ...(options.cacheControl === undefined ? {} : { CacheControl: options.cacheControl }),
    };
    const info = (bytes: number, etag: string | undefined): ObjectInfo => ({
      key,
      bytes,
      contentType: options.contentType,
      ...(etag === undefined ? {} : { etag: unquote(etag) }),
      ...(options.cacheControl === undefined ? {} : { cacheControl: options.cacheControl }),
    });

    const parts = this.parts(key, body, options.bytes);
    try {
      const first = await parts.next();
      const firstPart = first.done === true ? Buffer.alloc(0) : first.value;
      // Only the last part is shorter than a full part, so a short first part is the whole body.
      if (firstPart.length < this.partSize) {
        const put = await this.send('write', key, () =>
          this.client.send(
            new PutObjectCommand({ ...common, Body: firstPart, ContentLength: firstPart.length }),
          ),
        );
        return info(firstPart.length, put.ETag);
      }
      return await this.writeMultipart(key, common, firstPart, parts, info);
    } catch (error) {
      await parts.return(undefined).catch(() => undefined);
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw error;
    }
  }

  private async writeMultipart(
    key: string,
    common: { Bucket: string; Key: string; ContentType: string; CacheControl?: string },
    firstPart: Buffer,
    rest: AsyncGenerator<Buffer>,
    info: (bytes: number, etag: string | undefined) => ObjectInfo,
  ): Promise<ObjectInfo> {
    const created = await this.send('start a multipart upload of', key, () =>
      this.client.send(new CreateMultipartUploadCommand(common)),
    );
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new StorageError(`S3 returned no upload id for ${key}.`, { key });
    try {
      const completed: CompletedPart[] = [];
      let bytes = 0;
      const upload = async (part: Buffer): Promise<void> => {
        const partNumber = completed.length + 1;
        if (partNumber > S3_MAX_PARTS) {
          throw new ObjectTooLargeError(key, S3_MAX_PARTS * this.partSize);
        }
        const output = await this.send('upload a part of', key, () =>
          this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: part,
              ContentLength: part.length,
            }),
          ),
        );
        completed.push({ PartNumber: partNumber, ETag: output.ETag });
        bytes += part.length;
      };
      await upload(firstPart);
      for await (const part of rest) await upload(part);
      const done = await this.send('complete the multipart upload of', key, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: completed },
          }),
        ),
      );
      return info(bytes, done.ETag);
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      const mapped = this.toStorageError(error, key, 'delete');
      if (!(mapped instanceof ObjectNotFoundError)) throw mapped;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertObjectKey(key);
    const unique = [...new Set(keys)];
    for (let offset = 0; offset < unique.length; offset += S3_DELETE_BATCH) {
      const batch = unique.slice(offset, offset + S3_DELETE_BATCH);
      const command = new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
      });
      // S3 accepts the SDK's CRC32 checksum; several S3-compatible servers insist on Content-MD5.
      command.middlewareStack.add(
        (next) => async (args) => {
          const request: unknown = args.request;
          if (
            isHttpRequestLike(request) &&
            (typeof request.body === 'string' || ArrayBuffer.isView(request.body))
          ) {
            const payload =
              typeof request.body === 'string'
                ? Buffer.from(request.body, 'utf8')
                : chunkToBuffer(request.body);
            request.headers['content-md5'] = createHash('md5').update(payload).digest('base64');
          }
          return next(args);
        },
        { step: 'build', name: 'tesseraContentMd5' },
      );
      const output = await this.send('delete objects from', undefined, () => this.client.send(command));
      const failures = (output.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failures.length > 0) {
        const first = failures[0];
        throw new StorageError(
          `S3 could not delete ${failures.length} object(s) from bucket ${this.bucket}, e.g. ${first?.Key ?? '?'} (${first?.Code ?? 'error'}).`,
          { key: first?.Key },
        );
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    let continuationToken: string | undefined;
    do {
      const token = continuationToken;
      const page = await this.send('list', prefix === '' ? undefined : prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            ...(prefix === '' ? {} : { Prefix: prefix }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (!isObjectKey(object.Key)) continue;
        yield {
          key: object.Key,
          bytes: object.Size ?? 0,
          ...(object.ETag === undefined ? {} : { etag: unquote(object.ETag) }),
          ...(object.LastModified === undefined ? {} : { lastModified: object.LastModified }),
        };
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  /**
   * A browser form POST straight to the bucket. The policy pins the exact key
   * (`{"key": key}`), the `Content-Type` field (`["eq", "$Content-Type", type]`), the size
   * (`["content-length-range", min, max]`) and the expiry. Servers that do not enforce policies
   * exist (s3rver, some gateways): check the stored object before trusting it.
   */
  async presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost> {
    assertObjectKey(key);
    const resolved = resolvePresignPostOptions(options);
    const { url, fields } = await this.send('presign an upload of', key, () =>
      createPresignedPost(this.presignClient, {
        Bucket: this.bucket,
        Key: key,
        Conditions: [
          ['eq', '$Content-Type', resolved.contentType],
          ['content-length-range', resolved.minBytes, resolved.maxBytes],
        ],
        Fields: { 'Content-Type': resolved.contentType },
        Expires: resolved.expiresInSeconds,
      }),
    );
    return { url, fields, expiresAt: this.policyExpiration(fields.Policy, resolved.expiresInSeconds) };
  }

  /** The `expiration` of an encoded POST policy (exactly what S3 will enforce). */
  private policyExpiration(encodedPolicy: string | undefined, fallbackSeconds: number): Date {
    if (encodedPolicy !== undefined) {
      try {
        const policy: unknown = JSON.parse(Buffer.from(encodedPolicy, 'base64').toString('utf8'));
        if (
          typeof policy === 'object' &&
          policy !== null &&
          'expiration' in policy &&
          typeof policy.expiration === 'string'
        ) {
          const expiresAt = new Date(policy.expiration);
          if (!Number.isNaN(expiresAt.getTime())) return expiresAt;
        }
      } catch {
        // fall through to the computed expiry
      }
    }
    return new Date(Date.now() + fallbackSeconds * 1000);
  }

  /** @throws StorageUnavailableError when the bucket cannot be reached with these credentials. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const mapped = this.toStorageError(error, undefined, 'reach');
      throw mapped instanceof StorageUnavailableError
        ? mapped
        : new StorageUnavailableError(mapped.message, { cause: error });
    }
  }

  /**
   * Creates the bucket when it does not exist (setup and tests; production buckets are usually
   * provisioned beforehand).
   * @throws StorageUnavailableError when the bucket can neither be found nor created.
   */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      const status = metadataStatus(error);
      const name = errorName(error);
      if (status !== 404 && name !== 'NotFound' && name !== 'NoSuchBucket') {
        throw this.toStorageError(error, undefined, 'reach');
      }
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          ...(this.region === 'us-east-1' || this.region === 'auto'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } }),
        }),
      );
    } catch (error) {
      const name = errorName(error);
      if (name === 'BucketAlreadyOwnedByYou') return;
      const mapped = this.toStorageError(error, undefined, 'create');
      throw mapped instanceof StorageUnavailableError
        ? mapped
        : new StorageUnavailableError(mapped.message, { cause: error });
    }
  }

  /** Closes the clients' connection pools. */
  close(): void {
    this.client.destroy();
    if (this.presignClient !== this.client) this.presignClient.destroy();
  }
}

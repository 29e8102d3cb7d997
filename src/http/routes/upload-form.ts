/**
 * `POST /uploads`: the signed upload form of the local-disk store, answering a browser's
 * `multipart/form-data` POST the way S3 answers a presigned POST, so front ends upload the same
 * way whichever store is configured.
 *
 * The form carries the fields `LocalObjectStore.presignPost` returned (`key`, `Content-Type`,
 * `policy`, `signature`), then the `file` field last; fields after the file are ignored, as on
 * S3. The policy is verified before a byte of the file is read; the size range is enforced while
 * the file streams to the store, which writes atomically, so a refused or broken upload leaves
 * nothing behind. When the answer comes before the whole request was read (refused policy, file
 * too large), the connection is closed rather than drained.
 *
 * Answers: 204 (or 200, or 201 with S3's XML `PostResponse`, as `success_action_status` asks);
 * errors as `application/problem+json`: 400 BAD_USER_INPUT (bad form, file too small), 403
 * FORBIDDEN (bad or expired signature, other key), 413 PAYLOAD_TOO_LARGE, 415
 * UNSUPPORTED_MEDIA_TYPE (Content-Type field other than the policy's, request not a form),
 * 503 SERVICE_UNAVAILABLE (disk unusable).
 */
import multipart, { type MultipartFields } from '@fastify/multipart';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pipeline } from 'node:stream/promises';
import { DomainError, ErrorCode, badInput, forbidden, isDomainError } from '../../errors/index.js';
import {
  ObjectTooLargeError,
  ObjectTooSmallError,
  StorageUnavailableError,
  UploadPolicyError,
} from '../../storage/errors.js';
import { formField } from '../../storage/local-post-policy.js';
import { LOCAL_UPLOAD_PATH, type LocalObjectStore } from '../../storage/local-store.js';
import { byteLimit } from '../../storage/streams.js';
import { internalProblem, problemOf, sendProblem } from '../problem.js';

/** Dependencies of the upload form route. */
export interface UploadFormRouteDeps {
  /** The store that signed the forms and receives the files. */
  store: LocalObjectStore;
  /** Largest file accepted whatever a policy says, in bytes. */
  maxUploadBytes: number;
}

/** Limits of the form itself (the file's own limit comes from the policy). */
const FORM_LIMITS = {
  /** Longest field name, in bytes. */
  fieldNameSize: 100,
  /** Longest field value, in bytes: keys are ≤ 1024 characters, policies a few hundred. */
  fieldSize: 8 * 1024,
  /** Most fields before the file. */
  fields: 32,
  /** Only the first file counts, as on S3. */
  files: 1,
  /** Most header lines in one part. */
  headerPairs: 20,
} as const;

const payloadTooLarge = (message: string): DomainError => new DomainError(ErrorCode.PayloadTooLarge, message);
const unsupportedMediaType = (message: string): DomainError =>
  new DomainError(ErrorCode.UnsupportedMediaType, message);

/** The policy failure as the client should see it. */
function policyProblem(error: UploadPolicyError): DomainError {
  switch (error.reason) {
    case 'malformed':
      return badInput(error.message);
    case 'wrong-content-type':
      return unsupportedMediaType(error.message);
    case 'bad-signature':
    case 'expired':
    case 'wrong-key':
      return forbidden(error.message);
  }
}

/** Plain string fields of the form; a repeated, truncated or non-text field is a bad form. */
function textFields(fields: MultipartFields): Record<string, string> {
  const result: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, entry] of Object.entries(fields)) {
    if (entry === undefined || name === 'file') continue;
    const lower = name.toLowerCase();
    if (Array.isArray(entry) || seen.has(lower))
      throw badInput(`The form field ${name} is sent more than once.`);
    seen.add(lower);
    if (entry.type !== 'field' || typeof entry.value !== 'string') {
      throw badInput(`The form field ${name} must be text, before the file.`);
    }
    if (entry.valueTruncated || entry.fieldnameTruncated)
      throw badInput(`The form field ${name} is too long.`);
    result[name] = entry.value;
  }
  return result;
}

/** Maps what went wrong while the file was stored. */
function storageProblem(error: unknown): DomainError | undefined {
  if (isDomainError(error)) return error;
  if (error instanceof ObjectTooLargeError)
    return payloadTooLarge(`The file is larger than ${error.maxBytes} bytes.`);
  if (error instanceof ObjectTooSmallError)
    return badInput(`The file is smaller than ${error.minBytes} bytes.`);
  if (error instanceof StorageUnavailableError) {
    return new DomainError(ErrorCode.ServiceUnavailable, 'Storage is unavailable; try again later.', {
      retryAfterSeconds: 5,
      cause: error,
    });
  }
  const status = (error as Partial<FastifyError> | undefined)?.statusCode;
  if (status === 413) return payloadTooLarge('The file is too large.');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return badInput('The form could not be read.');
  return undefined;
}

/** The XML body S3 answers with when `success_action_status` is 201. */
function postResponseXml(key: string, etag: string | undefined): string {
  const escape = (value: string): string =>
    value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Key>${escape(key)}</Key>${etag === undefined ? '' : `<ETag>"${escape(etag)}"</ETag>`}</PostResponse>`;
}

/** Closes the connection after the answer: the rest of the request is not worth reading. */
const closeAfterReply = (reply: FastifyReply): FastifyReply => reply.header('connection', 'close');

async function handleUpload(
  deps: UploadFormRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (!request.isMultipart()) {
    throw unsupportedMediaType('Upload forms must be sent as multipart/form-data.');
  }
  let part: Awaited<ReturnType<FastifyRequest['file']>>;
  try {
    part = await request.file({ limits: { ...FORM_LIMITS, fileSize: deps.maxUploadBytes + 1 } });
  } catch (error) {
    closeAfterReply(reply);
    const reason =
      typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : '';
    throw badInput(`The form could not be read${reason === '' ? '' : `: ${reason}`}.`);
  }
  if (part === undefined)
    throw badInput('The form has no file: send it in a field named file, after the other fields.');
  if (part.fieldname !== 'file') {
    part.file.destroy();
    closeAfterReply(reply);
    throw badInput('The file must be sent in a field named file, after the other fields.');
  }

  let key: string;
  let limiter: ReturnType<typeof byteLimit>;
  let contentType: string;
  let fields: Record<string, string>;
  try {
    fields = textFields(part.fields);
    const policy = deps.store.verifyPostPolicy(fields);
    key = policy.key;
    contentType = policy.contentType;
    limiter = byteLimit({
      key,
      minBytes: policy.minBytes,
      maxBytes: Math.min(policy.maxBytes, deps.maxUploadBytes),
    });
  } catch (error) {
    part.file.destroy();
    closeAfterReply(reply);
    throw error instanceof UploadPolicyError ? policyProblem(error) : error;
  }

  const feeding = pipeline(part.file, limiter).catch(() => undefined);
  try {
    const info = await deps.store.write(key, limiter, { contentType });
    await feeding;
    const requested = (formField(fields, 'success_action_status') ?? '').trim();
    const status = requested === '200' || requested === '201' ? Number(requested) : 204;
    if (info.etag !== undefined) reply.header('etag', `"${info.etag}"`);
    reply.header('cache-control', 'no-store').code(status);
    if (status === 201)
      return reply.header('content-type', 'application/xml').send(postResponseXml(key, info.etag));
    return reply.send();
  } catch (error) {
    part.file.destroy();
    await feeding;
    if (!part.file.readableEnded) closeAfterReply(reply);
    const problem = storageProblem(error);
    if (problem === undefined) throw error;
    throw problem;
  }
}

/**
 * Registers `POST /uploads` in its own plugin context, with a multipart parser that only this
 * route sees (GraphQL multipart requests keep graphql-upload's handling).
 * @param app the server.
 * @param deps the local store that signs and receives uploads, and the global upload limit in bytes.
 */
export async function registerUploadFormRoute(
  app: FastifyInstance,
  deps: UploadFormRouteDeps,
): Promise<void> {
  await app.register(async (scope) => {
    if (scope.hasContentTypeParser('multipart/form-data'))
      scope.removeContentTypeParser('multipart/form-data');
    await scope.register(multipart, { limits: { ...FORM_LIMITS, fileSize: deps.maxUploadBytes + 1 } });

    scope.setErrorHandler(async (error: FastifyError, request, reply) => {
      if (isDomainError(error)) return sendProblem(reply, error);
      if (error.statusCode === 415) {
        return sendProblem(
          reply,
          problemOf(ErrorCode.UnsupportedMediaType, 'Upload forms must be sent as multipart/form-data.'),
        );
      }
      const problem = storageProblem(error);
      if (problem !== undefined) return sendProblem(reply, problem);
      request.log.error({ err: error }, 'upload form failed');
      return sendProblem(reply, internalProblem());
    });

    scope.post(LOCAL_UPLOAD_PATH, async (request, reply) => handleUpload(deps, request, reply));
  });
}

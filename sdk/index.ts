/**
 * Tessera's typed client: the operations of `sdk/operations/*.graphql` as typed documents
 * (generated into `sdk/generated/` by `npm run codegen`), a small `fetch`-based client that runs
 * them, and the two ways a file goes in from a front end — a GraphQL multipart upload and a
 * direct upload straight to storage with progress events.
 *
 * Runs in browsers and in Node.js 20+ (global `fetch`, `FormData`, `Blob`); nothing else.
 *
 * @example
 * const tessera = createTesseraClient({ url: 'http://localhost:4000/graphql', apiKey: 'tsk_…' });
 * const { assets } = await tessera.request(AssetsDocument, { spaceId, tile: { width: 320 } });
 * const asset = await tessera.directUpload(file, { spaceId }, { onProgress: (p) => bar.value = p.fraction });
 */
import {
  CompleteUploadDocument,
  CreateUploadDocument,
  UploadAssetDocument,
  type CreateUploadInput,
  type TypedDocumentString,
  type UploadAssetInput,
  type UploadedAssetFragment,
} from './generated/graphql.js';

export * from './generated/graphql.js';

/** One entry of a GraphQL response's `errors`. */
export interface TesseraGraphQLError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly [key: string]: unknown };
}

/**
 * Codes a `TesseraError` carries besides the server's own (`BAD_USER_INPUT`, `UNAUTHENTICATED`,
 * `FORBIDDEN`, `NOT_FOUND`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, `RATE_LIMITED`, …):
 * `NETWORK_ERROR` (no answer), `BAD_RESPONSE` (an answer that is not GraphQL), `UPLOAD_FAILED`
 * (storage refused a direct upload without saying why in a known way), `ABORTED` (the signal fired).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'BAD_RESPONSE' | 'UPLOAD_FAILED' | 'ABORTED';

/** What a request or an upload failed with: the server's code and message, or the client's. */
export class TesseraError extends Error {
  /** `extensions.code` of the first GraphQL error, the problem's `code`, or a `ClientErrorCode`. */
  readonly code: string;
  /** HTTP status of the answer, when there was one. */
  readonly status: number | undefined;
  /** Every GraphQL error of the response (empty for transport and storage failures). */
  readonly errors: readonly TesseraGraphQLError[];

  constructor(
    message: string,
    code: string,
    options: { status?: number; errors?: readonly TesseraGraphQLError[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.status = options.status;
    this.errors = options.errors ?? [];
  }
}

/** How the client authenticates: an API key, or a function giving a bearer token per request. */
export type TesseraAuth =
  | {
      /** API key (`tsk_…`), sent as `Authorization: Bearer …`. */
      readonly apiKey: string;
      readonly getToken?: never;
    }
  | {
      /** Called before every request: an API key or a JWT, sent as `Authorization: Bearer …`. */
      readonly getToken: () => string | Promise<string>;
      readonly apiKey?: never;
    };

export type TesseraClientOptions = TesseraAuth & {
  /** Absolute URL of Tessera's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  readonly url: string;
  /** The `fetch` to use for GraphQL requests; default: the global one. */
  readonly fetch?: typeof fetch;
};

/** How much of a direct upload's file has gone out. */
export interface UploadProgress {
  /** Bytes of the file sent so far (estimated from the bytes of the whole form). */
  readonly loaded: number;
  /** Size of the file, bytes. */
  readonly total: number;
  /** `loaded / total`, 0 to 1; exactly 1 only once storage has accepted the file. */
  readonly fraction: number;
}

export interface RequestOptions {
  /** Aborts the request; the promise then rejects with code `ABORTED`. */
  readonly signal?: AbortSignal;
}

export interface UploadOptions extends RequestOptions {
  /**
   * Called with 0 before the file goes out, as it goes out (in browsers, from XMLHttpRequest's
   * progress events; elsewhere there are none in between) and with 1 once storage accepted it.
   */
  readonly onProgress?: (progress: UploadProgress) => void;
}

/**
 * What `directUpload` needs besides the file: the space, and optionally tags, folder and access.
 * `filename` defaults to the file's name and `contentType` to its type.
 */
export type DirectUploadInput = Omit<CreateUploadInput, 'bytes' | 'contentType' | 'filename'> & {
  readonly filename?: string;
  readonly contentType?: string;
};

/** The upload fields besides the file; `filename` defaults to the file's name. */
export type UploadAssetFields = Omit<UploadAssetInput, 'file'>;

/** Variables of a document, as a rest parameter: none for an operation without variables. */
export type VariablesOf<TVariables> = TVariables extends Record<string, never> ? [] : [variables: TVariables];

export interface TesseraClient {
  /**
   * Runs a typed operation (a `…Document` of this SDK) and resolves to its `data`.
   * @throws TesseraError with the first error's code when the answer carries errors.
   */
  request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...variables: VariablesOf<TVariables>
  ): Promise<TResult>;
  /**
   * Uploads a file through a GraphQL multipart request (`uploadAsset`). The same bytes in the
   * same space resolve to the existing asset.
   * @throws TesseraError (`PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, `UNPROCESSABLE_IMAGE`, …)
   */
  uploadAsset(file: Blob, input: UploadAssetFields, options?: RequestOptions): Promise<UploadedAssetFragment>;
  /**
   * Uploads a file straight to storage: `createUpload`, then a form POST of the returned fields
   * and the file to the returned URL (S3, or Tessera's own `/uploads` on local disk), then
   * `completeUpload`, which checks what arrived and resolves to the asset.
   * @throws TesseraError from any of the three steps; `ABORTED` when `options.signal` fires.
   */
  directUpload(file: Blob, input: DirectUploadInput, options?: UploadOptions): Promise<UploadedAssetFragment>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nameOf = (file: Blob): string | undefined =>
  'name' in file && typeof file.name === 'string' && file.name !== '' ? file.name : undefined;

const aborted = (): TesseraError => new TesseraError('The upload was aborted.', 'ABORTED');

/** A GraphQL response body as sent: `data` and `errors` checked for shape, nothing trusted. */
function graphQLResult<T>(body: unknown, status: number): T {
  if (!isRecord(body))
    throw new TesseraError(`Unexpected answer (HTTP ${status}).`, 'BAD_RESPONSE', { status });
  const errors = Array.isArray(body.errors) ? (body.errors as TesseraGraphQLError[]) : [];
  if (errors.length > 0) {
    const first = errors[0]!;
    const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
    throw new TesseraError(String(first.message), code, { status, errors });
  }
  if (!isRecord(body.data))
    throw new TesseraError(`Answer without data (HTTP ${status}).`, 'BAD_RESPONSE', { status });
  return body.data as T;
}

/** The error of a refused form POST: Tessera's problem+json, or S3's XML error document. */
function storageError(status: number, contentType: string, text: string): TesseraError {
  if (contentType.includes('json')) {
    try {
      const problem: unknown = JSON.parse(text);
      if (isRecord(problem) && typeof problem.code === 'string') {
        const detail =
          typeof problem.detail === 'string' ? problem.detail : `Upload refused (HTTP ${status}).`;
        return new TesseraError(detail, problem.code, { status });
      }
    } catch {
      // Not JSON after all: fall through.
    }
  }
  const s3Code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const s3Message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
  const code =
    s3Code === 'EntityTooLarge'
      ? 'PAYLOAD_TOO_LARGE'
      : s3Code === 'AccessDenied' || s3Code === 'SignatureDoesNotMatch'
        ? 'FORBIDDEN'
        : 'UPLOAD_FAILED';
  return new TesseraError(s3Message ?? `Storage refused the upload (HTTP ${status}).`, code, { status });
}

/** POSTs a form with XMLHttpRequest, reporting the progress of a file of `size` bytes in it. */
function postWithXhr(url: string, form: FormData, size: number, options: UploadOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => options.signal?.removeEventListener('abort', onAbort);
    xhr.upload.addEventListener('progress', (event) => {
      if (!event.lengthComputable || event.total === 0) return;
      // 1 is kept for when storage has answered.
      const fraction = Math.min(event.loaded / event.total, 0.999);
      options.onProgress?.({ loaded: Math.floor(fraction * size), total: size, fraction });
    });
    xhr.addEventListener('load', () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(storageError(xhr.status, xhr.getResponseHeader('content-type') ?? '', xhr.responseText));
    });
    xhr.addEventListener('error', () => {
      done();
      reject(new TesseraError(`Could not reach ${new URL(url).origin} to upload.`, 'NETWORK_ERROR'));
    });
    xhr.addEventListener('abort', () => {
      done();
      reject(aborted());
    });
    xhr.send(form);
  });
}

/** POSTs a form with fetch (no upload progress: reported at the start and at the end). */
async function postWithFetch(
  fetchImpl: typeof fetch,
  url: string,
  form: FormData,
  options: UploadOptions,
): Promise<void> {
  let response: Response;
  try {
    response = await fetchImpl(url, { method: 'POST', body: form, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw aborted();
    throw new TesseraError(`Could not reach ${new URL(url).origin} to upload.`, 'NETWORK_ERROR', {
      cause: error,
    });
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  throw storageError(response.status, response.headers.get('content-type') ?? '', await response.text());
}

/**
 * A client for one Tessera GraphQL endpoint.
 * @throws TypeError when `url` is not an absolute URL.
 */
export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  const endpoint = new URL(options.url).toString();
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const authorization = async (): Promise<Record<string, string>> => {
    const token = options.getToken ? await options.getToken() : options.apiKey;
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  async function send<T>(init: RequestInit & { headers: Record<string, string> }): Promise<T> {
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        ...init,
        method: 'POST',
        headers: { accept: 'application/graphql-response+json, application/json', ...init.headers },
      });
    } catch (error) {
      if (init.signal?.aborted) throw aborted();
      throw new TesseraError(`Could not reach ${new URL(endpoint).origin}.`, 'NETWORK_ERROR', {
        cause: error,
      });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new TesseraError(`Unexpected answer (HTTP ${response.status}).`, 'BAD_RESPONSE', {
        status: response.status,
        cause: error,
      });
    }
    return graphQLResult<T>(body, response.status);
  }

  async function request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...rest: VariablesOf<TVariables>
  ): Promise<TResult> {
    const [variables] = rest;
    return send<TResult>({
      headers: { 'content-type': 'application/json', ...(await authorization()) },
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
    });
  }

  async function uploadAsset(
    file: Blob,
    input: UploadAssetFields,
    uploadOptions: RequestOptions = {},
  ): Promise<UploadedAssetFragment> {
    const form = new FormData();
    const operations = {
      query: UploadAssetDocument.toString(),
      variables: { input: { ...input, file: null } },
    };
    form.append('operations', JSON.stringify(operations));
    form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.append('0', file, input.filename ?? nameOf(file) ?? 'upload');
    const data = await send<{ uploadAsset: UploadedAssetFragment }>({
      headers: { 'apollo-require-preflight': 'true', ...(await authorization()) },
      body: form,
      signal: uploadOptions.signal,
    });
    return data.uploadAsset;
  }

  async function directUpload(
    file: Blob,
    input: DirectUploadInput,
    uploadOptions: UploadOptions = {},
  ): Promise<UploadedAssetFragment> {
    if (uploadOptions.signal?.aborted) throw aborted();
    const { filename, contentType, ...rest } = input;
    const { createUpload } = await request(CreateUploadDocument, {
      input: {
        ...rest,
        filename: filename ?? nameOf(file) ?? 'upload',
        contentType: contentType ?? (file.type || 'application/octet-stream'),
        bytes: file.size,
      },
    });
    const fields = createUpload.fields;
    if (!isRecord(fields))
      throw new TesseraError('createUpload answered without form fields.', 'BAD_RESPONSE');
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
    form.append('file', file, filename ?? nameOf(file) ?? 'upload');
    uploadOptions.onProgress?.({ loaded: 0, total: file.size, fraction: 0 });
    if (typeof XMLHttpRequest === 'function')
      await postWithXhr(createUpload.url, form, file.size, uploadOptions);
    else await postWithFetch(fetchImpl, createUpload.url, form, uploadOptions);
    uploadOptions.onProgress?.({ loaded: file.size, total: file.size, fraction: 1 });
    if (uploadOptions.signal?.aborted) throw aborted();
    const { completeUpload } = await request(CompleteUploadDocument, { uploadId: createUpload.uploadId });
    return completeUpload;
  }

  return { request, uploadAsset, directUpload };
}

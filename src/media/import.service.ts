import type { Principal } from '../auth/principal.js';
import { requireScope } from '../auth/principal.js';
import type { AssetEntity, Access } from '../db/entities/index.js';
import { DomainError, ErrorCode } from '../errors/index.js';
import type { AddressGuard } from '../net/address-guard.js';
import { safeFetch, SafeFetchError } from '../net/safe-fetch.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import type { IngestService } from './ingest.service.js';
import { createHash } from 'node:crypto';

export interface ImportRequest {
  readonly spaceId: string;
  readonly url: string;
  readonly filename?: string | null;
  readonly access?: Access | null;
  readonly tags?: readonly string[] | null;
  readonly folder?: string | null;
}

/** Content types an import accepts; the bytes are sniffed anyway. */
const ACCEPTED_TYPES = ['image/', 'application/octet-stream', 'binary/octet-stream'];

const CODE_OF: Readonly<Record<SafeFetchError['reason'], ErrorCode>> = {
  'invalid-url': ErrorCode.BadUserInput,
  'blocked-address': ErrorCode.BadUserInput,
  dns: ErrorCode.BadUserInput,
  timeout: ErrorCode.BadUserInput,
  network: ErrorCode.BadUserInput,
  'too-many-redirects': ErrorCode.BadUserInput,
  'http-status': ErrorCode.BadUserInput,
  'content-type': ErrorCode.UnsupportedMediaType,
  'too-large': ErrorCode.PayloadTooLarge,
};

/** `importAsset`: fetch a URL safely (see `safeFetch`) and ingest what it serves. */
export class ImportService {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly ingest: IngestService,
    private readonly guard: AddressGuard,
    private readonly limits: { maxUploadBytes: number; timeoutMs: number },
  ) {}

  /**
   * @throws DomainError BAD_USER_INPUT (bad URL, refused address, unreachable, non-200, timeout;
   *   `details.reason` says which), UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE, and the ingest errors.
   */
  async import(principal: Principal, request: ImportRequest): Promise<AssetEntity> {
    requireScope(principal, 'assets:write');
    const space = await this.tenancy.space(principal, request.spaceId);
    let fetched;
    try {
      fetched = await safeFetch(request.url, {
        guard: this.guard,
        timeoutMs: this.limits.timeoutMs,
        maxBytes: this.limits.maxUploadBytes,
        maxRedirects: 3,
        acceptContentTypes: ACCEPTED_TYPES,
      });
    } catch (error) {
      if (error instanceof SafeFetchError) {
        throw new DomainError(CODE_OF[error.reason], error.message, {
          details: { reason: error.reason, ...error.details },
        });
      }
      throw error;
    }
    const lastSegment = lastPathSegment(fetched.finalUrl);
    const { asset } = await this.ingest.ingest({
      principal,
      space,
      bytes: { data: fetched.body, sha256: createHash('sha256').update(fetched.body).digest('hex') },
      filename: request.filename ?? lastSegment,
      access: request.access,
      tags: request.tags,
      folder: request.folder,
    });
    return asset;
  }
}

/** The file name a URL suggests: its last path segment, percent-decoded when well-formed. */
function lastPathSegment(url: string): string {
  const raw = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

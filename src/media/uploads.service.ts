import type { DataSource } from 'typeorm';
import { canSee, requireScope, type Principal } from '../auth/principal.js';
import { AssetEntity, UploadEntity, type Access } from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { badInput, DomainError, ErrorCode, isDomainError, notFound } from '../errors/index.js';
import { IMAGE_MIME_TYPES, isAcceptedInputFormat, sniffImage } from '../imaging/sniff.js';
import type { ObjectStore, PresignedPost } from '../storage/object-store.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import { normalizeFilename, normalizeFolder, normalizeTags } from './asset-input.js';
import type { IngestService } from './ingest.service.js';
import { createHash } from 'node:crypto';

export interface CreateUploadRequest {
  readonly spaceId: string;
  readonly filename: string;
  readonly contentType: string;
  /** Size of the file the browser will send, bytes: the POST may carry at most this many. */
  readonly bytes: number;
  readonly access?: Access | null;
  readonly tags?: readonly string[] | null;
  readonly folder?: string | null;
}

export interface CreatedUpload {
  readonly upload: UploadEntity;
  readonly post: PresignedPost;
}

/** Media types a direct upload may declare: those the ingest pipeline accepts. */
export const UPLOADABLE_TYPES: ReadonlySet<string> = new Set(
  Object.entries(IMAGE_MIME_TYPES)
    .filter(([format]) => isAcceptedInputFormat(format as keyof typeof IMAGE_MIME_TYPES))
    .map(([, mime]) => mime),
);

const stagingKey = (spaceId: string, uploadId: string): string => `uploads/${spaceId}/${uploadId}`;

/**
 * How long after its form expired a file may have finished arriving, in milliseconds: a store
 * checks the expiry when the POST starts, and a large file can take minutes to transfer.
 */
export const LATE_ARRIVAL_GRACE_MS = 5 * 60_000;

/**
 * Presigned direct uploads: the browser POSTs the file straight to storage (S3, or Tessera's own
 * form endpoint on local disk), then `complete` checks everything the policy promised — size,
 * type by magic bytes, key — because a lax S3-compatible store may not, and ingests it.
 */
export class UploadsService {
  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly tenancy: TenancyService,
    private readonly ingest: IngestService,
    private readonly limits: { maxUploadBytes: number; uploadUrlSeconds: number },
  ) {}

  /**
   * @throws DomainError UNSUPPORTED_MEDIA_TYPE (type not accepted), PAYLOAD_TOO_LARGE, BAD_USER_INPUT, NOT_FOUND.
   */
  async create(principal: Principal, request: CreateUploadRequest): Promise<CreatedUpload> {
    requireScope(principal, 'assets:write');
    const space = await this.tenancy.space(principal, request.spaceId);
    const contentType = request.contentType.trim().toLowerCase();
    if (!UPLOADABLE_TYPES.has(contentType)) {
      throw new DomainError(ErrorCode.UnsupportedMediaType, `Uploads may be ${[...UPLOADABLE_TYPES].join(', ')} (got "${request.contentType}").`, {
        details: { field: 'contentType' },
      });
    }
    if (!Number.isSafeInteger(request.bytes) || request.bytes < 1) throw badInput('bytes must be a positive integer.', { field: 'bytes' });
    if (request.bytes > this.limits.maxUploadBytes) {
      throw new DomainError(ErrorCode.PayloadTooLarge, `The file is larger than the ${this.limits.maxUploadBytes} bytes allowed.`, {
        details: { maxBytes: this.limits.maxUploadBytes },
      });
    }
    const id = uuidv7();
    const upload = this.db.getRepository(UploadEntity).create({
      id,
      organizationId: space.organizationId,
      tenantId: space.tenantId,
      spaceId: space.id,
      filename: normalizeFilename(request.filename, 'upload'),
      contentType,
      bytes: request.bytes,
      storageKey: stagingKey(space.id, id),
      status: 'pending',
      access: request.access ?? null,
      tags: normalizeTags(request.tags),
      folder: normalizeFolder(request.folder),
      assetId: null,
      errorCode: null,
      createdBy: principal.actorId,
      expiresAt: new Date(Date.now() + this.limits.uploadUrlSeconds * 1000),
      completedAt: null,
    });
    const post = await this.store.presignPost(upload.storageKey, {
      contentType,
      minBytes: 1,
      maxBytes: request.bytes,
      expiresInSeconds: this.limits.uploadUrlSeconds,
    });
    await this.db.getRepository(UploadEntity).insert(upload);
    return { upload, post };
  }

  /** An upload the principal may see. @throws DomainError NOT_FOUND */
  async get(principal: Principal, id: string): Promise<UploadEntity> {
    const upload = await this.db.getRepository(UploadEntity).findOneBy({ id });
    if (!upload || !canSee(principal, upload)) throw notFound('Upload');
    return upload;
  }

  /**
   * Ingests the uploaded file. Idempotent: completing a completed upload returns its asset.
   * @throws DomainError NOT_FOUND (unknown or foreign id), BAD_USER_INPUT (nothing uploaded yet:
   *   `details.reason` `missing`; expired before the file arrived, or the file arrived more than
   *   `LATE_ARRIVAL_GRACE_MS` after the expiry: `expired`), PAYLOAD_TOO_LARGE,
   *   UNSUPPORTED_MEDIA_TYPE (not the declared type), and the ingest pipeline's errors. A refused
   *   file is deleted and the refusal recorded.
   */
  async complete(principal: Principal, id: string): Promise<AssetEntity> {
    requireScope(principal, 'assets:write');
    const upload = await this.get(principal, id);
    const outcome = await this.db.transaction(async (manager): Promise<AssetEntity | RecordedRefusal> => {
      // One completion at a time per upload, on every node.
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [upload.id]);
      const current = await manager.findOneByOrFail(UploadEntity, { id: upload.id });
      if (current.status === 'completed') {
        const asset = current.assetId === null ? null : await manager.findOneBy(AssetEntity, { id: current.assetId });
        if (!asset || asset.deletedAt !== null) throw notFound('Asset');
        return asset;
      }
      if (current.status === 'failed') {
        throw new DomainError((current.errorCode ?? ErrorCode.BadUserInput) as ErrorCode, 'This upload was refused earlier; create a new one.', {
          details: { reason: 'failed' },
        });
      }
      const info = await this.store.stat(current.storageKey);
      if (!info) {
        if (current.expiresAt.getTime() < Date.now()) {
          throw badInput('This upload expired before a file arrived; create a new one.', { reason: 'expired' });
        }
        throw badInput('No file has been uploaded for this upload yet.', { reason: 'missing' });
      }
      const space = await this.tenancy.space(principal, current.spaceId);
      try {
        // A store that does not enforce the policy (some S3-compatible servers) may take a late POST.
        if (info.lastModified !== undefined && info.lastModified.getTime() > current.expiresAt.getTime() + LATE_ARRIVAL_GRACE_MS) {
          throw badInput('The file arrived after this upload expired; create a new one.', { reason: 'expired' });
        }
        if (info.bytes > current.bytes || info.bytes > this.limits.maxUploadBytes) {
          throw new DomainError(ErrorCode.PayloadTooLarge, `The uploaded file has ${info.bytes} bytes, more than the ${current.bytes} declared.`);
        }
        const data = await this.store.readBuffer(current.storageKey, current.bytes);
        const sniffed = sniffImage(data.subarray(0, 512));
        if (sniffed.format === undefined || sniffed.mime !== current.contentType) {
          throw new DomainError(
            ErrorCode.UnsupportedMediaType,
            `The uploaded file is ${sniffed.format === undefined ? `not an image (${sniffed.reason})` : sniffed.mime}, not the declared ${current.contentType}.`,
            { details: { reason: sniffed.format === undefined ? sniffed.reason : 'type-mismatch', declared: current.contentType } },
          );
        }
        const { asset } = await this.ingest.ingest({
          principal,
          space,
          bytes: { data, sha256: createHash('sha256').update(data).digest('hex') },
          filename: current.filename,
          access: current.access,
          tags: current.tags,
          folder: current.folder,
        });
        await this.store.delete(current.storageKey);
        await manager.update(UploadEntity, { id: current.id }, { status: 'completed', assetId: asset.id, completedAt: new Date() });
        return asset;
      } catch (error) {
        if (isDomainError(error)) {
          await this.store.delete(current.storageKey);
          await manager.update(UploadEntity, { id: current.id }, { status: 'failed', errorCode: error.code, completedAt: new Date() });
          // Returned, not thrown: the transaction must commit the record of the refusal.
          return new RecordedRefusal(error);
        }
        throw error;
      }
    });
    if (outcome instanceof RecordedRefusal) throw outcome.refusal;
    return outcome;
  }
}

/** Carries a refusal out of a transaction that must still commit its record of it. */
class RecordedRefusal {
  constructor(readonly refusal: DomainError) {}
}

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
  /** Completions running in this process, by upload id: a second call joins the first. */
  private readonly completing = new Map<string, Promise<AssetEntity>>();

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
      throw new DomainError(
        ErrorCode.UnsupportedMediaType,
        `Uploads may be ${[...UPLOADABLE_TYPES].join(', ')} (got "${request.contentType}").`,
        {
          details: { field: 'contentType' },
        },
      );
    }
    if (!Number.isSafeInteger(request.bytes) || request.bytes < 1)
      throw badInput('bytes must be a positive integer.', { field: 'bytes' });
    if (request.bytes > this.limits.maxUploadBytes) {
      throw new DomainError(
        ErrorCode.PayloadTooLarge,
        `The file is larger than the ${this.limits.maxUploadBytes} bytes allowed.`,
        {
          details: { maxBytes: this.limits.maxUploadBytes },
        },
      );
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
    const running = this.completing.get(upload.id);
    if (running) return running;
    const run = this.completeNow(principal, upload.id).finally(() => this.completing.delete(upload.id));
    this.completing.set(upload.id, run);
    return run;
  }

  /**
   * Checks and ingests the staged file. No lock or transaction is held meanwhile (the ingest opens
   * its own, and a pool of one connection, as on PGlite, would wait for ever): a completion
   * running on another node is settled by the conditional update of the upload's status, and the
   * first answer recorded stands.
   */
  private async completeNow(principal: Principal, uploadId: string): Promise<AssetEntity> {
    const current = await this.db.getRepository(UploadEntity).findOneByOrFail({ id: uploadId });
    const earlier = await this.recordedAnswer(current);
    if (earlier) return earlier;
    try {
      return await this.checkAndIngest(principal, current);
    } catch (error) {
      if (!isDomainError(error)) {
        // Another node may have settled the upload and removed its file meanwhile.
        const answer = await this.recordedAnswer(
          await this.db.getRepository(UploadEntity).findOneByOrFail({ id: uploadId }),
        );
        if (answer) return answer;
      }
      throw error;
    }
  }

  /**
   * The answer recorded for a settled upload: its asset when completed.
   * @returns undefined while the upload is pending.
   * @throws DomainError the recorded refusal of a failed upload; NOT_FOUND when its asset is gone.
   */
  private async recordedAnswer(upload: UploadEntity): Promise<AssetEntity | undefined> {
    if (upload.status === 'completed') {
      const asset =
        upload.assetId === null
          ? null
          : await this.db.getRepository(AssetEntity).findOneBy({ id: upload.assetId });
      if (!asset || asset.deletedAt !== null) throw notFound('Asset');
      return asset;
    }
    if (upload.status === 'failed') {
      throw new DomainError(
        (upload.errorCode ?? ErrorCode.BadUserInput) as ErrorCode,
        'This upload was refused earlier; create a new one.',
        {
          details: { reason: 'failed' },
        },
      );
    }
    return undefined;
  }

  /** Moves a pending upload to `completed` or `failed`; false when it was settled already. */
  private async settle(
    uploadId: string,
    outcome: { status: 'completed'; assetId: string } | { status: 'failed'; errorCode: string },
  ): Promise<boolean> {
    const result = await this.db
      .createQueryBuilder()
      .update(UploadEntity)
      .set({ ...outcome, completedAt: new Date() })
      .where('id = :id AND status = :pending', { id: uploadId, pending: 'pending' })
      .execute();
    return result.affected === 1;
  }

  private async checkAndIngest(principal: Principal, current: UploadEntity): Promise<AssetEntity> {
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
      if (
        info.lastModified !== undefined &&
        info.lastModified.getTime() > current.expiresAt.getTime() + LATE_ARRIVAL_GRACE_MS
      ) {
        throw badInput('The file arrived after this upload expired; create a new one.', {
          reason: 'expired',
        });
      }
      if (info.bytes > current.bytes || info.bytes > this.limits.maxUploadBytes) {
        throw new DomainError(
          ErrorCode.PayloadTooLarge,
          `The uploaded file has ${info.bytes} bytes, more than the ${current.bytes} declared.`,
        );
      }
      const data = await this.store.readBuffer(current.storageKey, current.bytes);
      const sniffed = sniffImage(data.subarray(0, 512));
      if (sniffed.format === undefined || sniffed.mime !== current.contentType) {
        throw new DomainError(
          ErrorCode.UnsupportedMediaType,
          `The uploaded file is ${sniffed.format === undefined ? `not an image (${sniffed.reason})` : sniffed.mime}, not the declared ${current.contentType}.`,
          {
            details: {
              reason: sniffed.format === undefined ? sniffed.reason : 'type-mismatch',
              declared: current.contentType,
            },
          },
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
      if (!(await this.settle(current.id, { status: 'completed', assetId: asset.id }))) {
        const answer = await this.recordedAnswer(
          await this.db.getRepository(UploadEntity).findOneByOrFail({ id: current.id }),
        );
        if (answer) return answer;
      }
      await this.store.delete(current.storageKey);
      return asset;
    } catch (error) {
      if (isDomainError(error)) {
        // Recorded, so that asking again gives the same answer; the refused file goes.
        await this.store.delete(current.storageKey);
        await this.settle(current.id, { status: 'failed', errorCode: error.code });
      }
      throw error;
    }
  }
}

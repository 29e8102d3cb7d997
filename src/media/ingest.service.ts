import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { toJsonObject } from '../db/entities/columns.js';
import { AssetEntity, type Access, type SpaceEntity } from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { DomainError, ErrorCode } from '../errors/index.js';
import { probeImage, type ImageProbe } from '../imaging/probe.js';
import type { ObjectStore } from '../storage/object-store.js';
import { isUniqueViolation } from '../tenancy/tenancy.service.js';
import { normalizeFilename, normalizeFolder, normalizeTags } from './asset-input.js';
import { lockObjectKey } from './cleanup.service.js';
import type { BoundedBytes } from './read-bounded.js';

export interface IngestLimits {
  /** Largest original, bytes. */
  readonly maxUploadBytes: number;
  /** Largest decoded image, width × height × frames. */
  readonly maxInputPixels: number;
}

/** One file entering a space, by any way in (GraphQL upload, direct upload, import). */
export interface IngestRequest {
  readonly principal: Principal;
  readonly space: SpaceEntity;
  readonly bytes: BoundedBytes;
  readonly filename?: string | null;
  readonly access?: Access | null;
  readonly tags?: readonly string[] | null;
  readonly folder?: string | null;
}

export interface IngestResult {
  readonly asset: AssetEntity;
  /** False when the same bytes were already in the space: the existing asset is returned. */
  readonly created: boolean;
}

const EXTENSION: Readonly<Record<string, string>> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
  gif: 'gif',
  tiff: 'tiff',
};

/** A new asset, or new bytes for one (after the change is committed). */
export interface AssetChange {
  readonly kind: 'created' | 'replaced';
  readonly asset: AssetEntity;
}

/** Content-addressed key of an original: one object per distinct file per space. */
export const originalKey = (spaceId: string, sha256: string): string => `originals/${spaceId}/${sha256}`;

/** Metadata columns of an asset, from a probe. */
function probedColumns(probe: ImageProbe, bytes: BoundedBytes) {
  return {
    mimeType: probe.mimeType,
    format: probe.format,
    width: probe.width,
    height: probe.height,
    pages: probe.pages,
    bytes: bytes.data.length,
    sha256: bytes.sha256,
    hasAlpha: probe.hasAlpha,
    colorSpace: probe.colorSpace,
    orientation: probe.orientation,
    exif: probe.exif === null ? null : toJsonObject(probe.exif),
    placeholder: { ...probe.placeholder },
    dominantColor: probe.dominantColor,
  };
}

/**
 * The ingest pipeline every way in shares: bytes already read under the byte limit and hashed →
 * deduplicate per space → probe (sniff, metadata under the pixel limit, EXIF, placeholder) →
 * store the original → create the row in a transaction. A failure at any step leaves no row
 * without its object and no object without its row.
 */
export class IngestService {
  private readonly listeners: ((change: AssetChange) => void)[] = [];
  private admitStore:
    ((space: SpaceEntity, addBytes: number, addOriginals: number) => Promise<void>) | undefined;

  /** Asked before a new original is stored (quotas): throws to refuse. */
  useAdmission(admit: (space: SpaceEntity, addBytes: number, addOriginals: number) => Promise<void>): void {
    this.admitStore = admit;
  }

  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly limits: IngestLimits,
  ) {}

  /**
   * @throws DomainError UNSUPPORTED_MEDIA_TYPE, UNPROCESSABLE_IMAGE, LIMIT_EXCEEDED (from the probe),
   *   PAYLOAD_TOO_LARGE, BAD_USER_INPUT (tags, folder).
   */
  async ingest(request: IngestRequest): Promise<IngestResult> {
    const { space, bytes } = request;
    if (bytes.data.length > this.limits.maxUploadBytes) {
      throw new DomainError(
        ErrorCode.PayloadTooLarge,
        `The file is larger than the ${this.limits.maxUploadBytes} bytes allowed.`,
      );
    }
    const tags = normalizeTags(request.tags);
    const folder = normalizeFolder(request.folder);
    const existing = await this.liveBySha(space.id, bytes.sha256);
    if (existing) return { asset: existing, created: false };

    const probe = await probeImage(bytes.data, {
      maxInputPixels: this.limits.maxInputPixels,
      keepGps: space.keepGps,
    });
    await this.admitStore?.(space, bytes.data.length, 1);
    const storageKey = originalKey(space.id, bytes.sha256);
    const asset = this.db.getRepository(AssetEntity).create({
      id: uuidv7(),
      organizationId: space.organizationId,
      tenantId: space.tenantId,
      spaceId: space.id,
      version: 1,
      filename: normalizeFilename(request.filename, `upload.${EXTENSION[probe.format] ?? probe.format}`),
      ...probedColumns(probe, bytes),
      focalX: null,
      focalY: null,
      tags,
      folder,
      access: request.access ?? space.defaultAccess,
      storageKey,
      createdBy: request.principal.actorId,
      deletedAt: null,
    });
    let wrote = false;
    try {
      await this.db.transaction(async (manager) => {
        await lockObjectKey(manager, storageKey);
        wrote = await this.storeOriginal(storageKey, bytes, probe.mimeType);
        await manager.insert(AssetEntity, asset);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        // The same bytes arrived concurrently: the other request's asset wins, sharing the object.
        const winner = await this.liveBySha(space.id, bytes.sha256);
        if (winner) return { asset: winner, created: false };
      }
      if (wrote) await this.deleteIfUnreferenced(storageKey);
      throw error;
    }
    const created = await this.db.getRepository(AssetEntity).findOneByOrFail({ id: asset.id });
    this.emit({ kind: 'created', asset: created });
    return { asset: created, created: true };
  }

  /** Calls `listener` after every committed ingest or replacement (eager presets, metering). */
  onChange(listener: (change: AssetChange) => void): void {
    this.listeners.push(listener);
  }

  private emit(change: AssetChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /**
   * New bytes for an existing asset: version + 1, metadata from the new file. Returns the updated
   * row and what the previous version left behind for cleanup.
   * @throws DomainError CONFLICT when another asset of the space has exactly these bytes.
   */
  async replace(
    principal: Principal,
    asset: AssetEntity,
    space: SpaceEntity,
    bytes: BoundedBytes,
    filename?: string | null,
  ): Promise<{ asset: AssetEntity; previous: { version: number; storageKey: string } }> {
    if (bytes.data.length > this.limits.maxUploadBytes) {
      throw new DomainError(
        ErrorCode.PayloadTooLarge,
        `The file is larger than the ${this.limits.maxUploadBytes} bytes allowed.`,
      );
    }
    const twin = await this.liveBySha(space.id, bytes.sha256);
    if (twin && twin.id !== asset.id) {
      throw new DomainError(
        ErrorCode.Conflict,
        'Another asset in this space already has exactly these bytes.',
        { details: { field: 'file' } },
      );
    }
    const probe = await probeImage(bytes.data, {
      maxInputPixels: this.limits.maxInputPixels,
      keepGps: space.keepGps,
    });
    await this.admitStore?.(space, Math.max(0, bytes.data.length - asset.bytes), 0);
    const storageKey = originalKey(space.id, bytes.sha256);
    const previous = { version: asset.version, storageKey: asset.storageKey };
    let wrote = false;
    try {
      const updated = await this.db.transaction(async (manager: EntityManager) => {
        await lockObjectKey(manager, storageKey);
        wrote = await this.storeOriginal(storageKey, bytes, probe.mimeType);
        const result = await manager
          .createQueryBuilder()
          .update(AssetEntity)
          .set({
            ...probedColumns(probe, bytes),
            version: () => 'version + 1',
            storageKey,
            filename: filename ? normalizeFilename(filename, asset.filename) : asset.filename,
            updatedAt: () => 'now()',
          })
          .where('id = :id AND version = :version AND deleted_at IS NULL', {
            id: asset.id,
            version: asset.version,
          })
          .execute();
        if (result.affected !== 1)
          throw new DomainError(ErrorCode.Conflict, 'The asset changed meanwhile; try again.');
        return manager.findOneByOrFail(AssetEntity, { id: asset.id });
      });
      this.emit({ kind: 'replaced', asset: updated });
      return { asset: updated, previous };
    } catch (error) {
      if (wrote && storageKey !== previous.storageKey) await this.deleteIfUnreferenced(storageKey);
      if (isUniqueViolation(error)) {
        throw new DomainError(
          ErrorCode.Conflict,
          'Another asset in this space already has exactly these bytes.',
          { details: { field: 'file' } },
        );
      }
      throw error;
    }
  }

  private async liveBySha(spaceId: string, sha256: string): Promise<AssetEntity | null> {
    return this.db
      .getRepository(AssetEntity)
      .createQueryBuilder('a')
      .where('a.space_id = :spaceId AND a.sha256 = :sha256 AND a.deleted_at IS NULL', { spaceId, sha256 })
      .getOne();
  }

  /** Writes the original unless the same bytes are stored already; true when this call wrote it. */
  private async storeOriginal(key: string, bytes: BoundedBytes, contentType: string): Promise<boolean> {
    const present = await this.store.stat(key);
    if (present && present.bytes === bytes.data.length) return false;
    await this.store.write(key, bytes.data, { contentType, bytes: bytes.data.length });
    return true;
  }

  /** Deletes an original no asset row (live or awaiting cleanup) points at. */
  async deleteIfUnreferenced(key: string): Promise<boolean> {
    return this.db.transaction(async (manager) => {
      await lockObjectKey(manager, key);
      if (await manager.existsBy(AssetEntity, { storageKey: key })) return false;
      await this.store.delete(key);
      return true;
    });
  }
}

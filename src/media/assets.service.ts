import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import { canSee, requireScope, type Principal } from '../auth/principal.js';
import { AssetEntity, SpaceEntity, type Access } from '../db/entities/index.js';
import { badInput, notFound } from '../errors/index.js';
import { spaceOwnership, type TenancyService } from '../tenancy/tenancy.service.js';
import { checkFocalPoint, normalizeFilename, normalizeFolder, normalizeTags } from './asset-input.js';
import type { Readable } from 'node:stream';
import type { AssetCleanup } from './cleanup.service.js';
import type { IngestService } from './ingest.service.js';
import { readBounded, type BoundedBytes } from './read-bounded.js';

export type AssetSortField = 'createdAt' | 'updatedAt' | 'filename' | 'bytes';

export interface AssetFilter {
  /** Assets carrying every one of these tags. */
  readonly tags?: readonly string[] | null;
  /** Exact folder (`''` is the root). */
  readonly folder?: string | null;
  /** With `folder`, include its subfolders. */
  readonly includeSubfolders?: boolean | null;
  readonly formats?: readonly string[] | null;
  readonly access?: Access | null;
  readonly createdAfter?: Date | null;
  readonly createdBefore?: Date | null;
  /** Case-insensitive substring of the filename. */
  readonly search?: string | null;
}

export interface AssetOrder {
  readonly field: AssetSortField;
  readonly direction: 'ASC' | 'DESC';
}

/** Keyset position: the sort value and the id of the last row of the previous page. */
export interface AssetCursor {
  readonly value: string | number;
  readonly id: string;
}

/** A page: `limit` rows after `after` in `order`, matching `filter`. */
export interface AssetListOptions {
  readonly limit: number;
  readonly after?: AssetCursor;
  readonly filter?: AssetFilter;
  readonly order?: AssetOrder;
}

export interface AssetChanges {
  readonly filename?: string | null;
  readonly tags?: readonly string[] | null;
  readonly folder?: string | null;
  readonly access?: Access | null;
  /** `null` clears the focal point. */
  readonly focalPoint?: { x: number; y: number } | null;
}

/**
 * What each order sorts on. Timestamps are stored to the microsecond but reach clients (and
 * cursors) to the millisecond: ordering and comparing on the millisecond keeps a cursor's row
 * from coming back on the next page and rows of the same millisecond from being skipped.
 */
const SORT_KEY: Readonly<Record<AssetSortField, string>> = {
  createdAt: `date_trunc('milliseconds', a.created_at)`,
  updatedAt: `date_trunc('milliseconds', a.updated_at)`,
  filename: 'a.filename',
  bytes: 'a.bytes',
};

/** One millisecond past `date`: `t > date` on millisecond values is `t >= date + 1 ms` on stored ones. */
const nextMillisecond = (date: Date): Date => new Date(date.getTime() + 1);

/** The sort value of a row, as carried in its cursor. */
export function sortValue(asset: AssetEntity, field: AssetSortField): string | number {
  switch (field) {
    case 'createdAt':
      return asset.createdAt.toISOString();
    case 'updatedAt':
      return asset.updatedAt.toISOString();
    case 'filename':
      return asset.filename;
    case 'bytes':
      return asset.bytes;
  }
}

const ownership = (asset: AssetEntity) => ({
  organizationId: asset.organizationId,
  tenantId: asset.tenantId,
  spaceId: asset.spaceId,
});

/** Reading and changing assets; every path goes through the tenancy rule. */
export class AssetsService {
  constructor(
    private readonly db: DataSource,
    private readonly tenancy: TenancyService,
    private readonly ingest: IngestService,
    private readonly cleanup: AssetCleanup,
    private readonly limits: { maxUploadBytes: number },
  ) {}

  /**
   * A file streamed by the client (GraphQL multipart upload) into a space. Same bytes in the same
   * space return the existing asset.
   * @throws DomainError PAYLOAD_TOO_LARGE (the stream is abandoned at the limit), NOT_FOUND,
   *   FORBIDDEN, and the ingest pipeline's refusals.
   */
  async upload(
    principal: Principal,
    request: {
      spaceId: string;
      file: Readable;
      filename?: string | null;
      access?: Access | null;
      tags?: readonly string[] | null;
      folder?: string | null;
    },
  ): Promise<{ asset: AssetEntity; created: boolean }> {
    requireScope(principal, 'assets:write');
    const reading = this.startReading(request.file);
    const space = await this.whileReading(request.file, this.tenancy.space(principal, request.spaceId));
    const bytes = await reading;
    return this.ingest.ingest({
      principal,
      space,
      bytes,
      filename: request.filename,
      access: request.access,
      tags: request.tags,
      folder: request.folder,
    });
  }

  /**
   * New bytes for an asset: version + 1; URLs of the old version stop matching, and its original
   * and variants leave storage through the cleanup step.
   * @throws DomainError NOT_FOUND, FORBIDDEN, CONFLICT (bytes of another asset), and the ingest refusals.
   */
  async replace(
    principal: Principal,
    id: string,
    file: Readable,
    filename?: string | null,
  ): Promise<AssetEntity> {
    requireScope(principal, 'assets:write');
    const reading = this.startReading(file);
    const { asset, space } = await this.whileReading(
      file,
      this.get(principal, id).then(async (found) => ({
        asset: found,
        space: await this.tenancy.space(principal, found.spaceId),
      })),
    );
    const bytes = await reading;
    if (bytes.sha256 === asset.sha256) return asset;
    const replaced = await this.ingest.replace(principal, asset, space, bytes, filename);
    this.cleanup.schedule({
      kind: 'replaced',
      assetId: asset.id,
      previousVersion: replaced.previous.version,
      previousStorageKey: replaced.previous.storageKey,
    });
    return replaced.asset;
  }

  /**
   * Starts reading a client's stream at once: it can fail (the sender's file passing a limit
   * upstream) while the request is still being checked, and an error event with no listener
   * would bring the whole process down. The failure is reported when the result is awaited.
   */
  private startReading(file: Readable): Promise<BoundedBytes> {
    const reading = readBounded(file, this.limits.maxUploadBytes);
    reading.catch(() => undefined);
    return reading;
  }

  /** Awaits a check made while `file` is read; when the check fails, the rest of the file is abandoned. */
  private async whileReading<T>(file: Readable, check: Promise<T>): Promise<T> {
    try {
      return await check;
    } catch (error) {
      file.destroy();
      throw error;
    }
  }

  /**
   * A live asset the principal may see.
   * @throws DomainError NOT_FOUND for unknown, deleted or foreign ids (one answer for all).
   */
  async get(principal: Principal, id: string): Promise<AssetEntity> {
    requireScope(principal, 'assets:read');
    const asset = await this.db.getRepository(AssetEntity).findOneBy({ id });
    if (!asset || asset.deletedAt !== null || !canSee(principal, ownership(asset))) throw notFound('Asset');
    return asset;
  }

  /** Live assets by ids, for loaders (callers check visibility of what they hold already). */
  async byIds(ids: readonly string[]): Promise<AssetEntity[]> {
    return this.db.getRepository(AssetEntity).findBy({ id: In([...ids]) });
  }

  /** A page of a space's live assets, `limit` rows after `after` in `order`. */
  async list(principal: Principal, spaceId: string, options: AssetListOptions): Promise<AssetEntity[]> {
    requireScope(principal, 'assets:read');
    return this.listIn(principal, await this.tenancy.space(principal, spaceId), options);
  }

  /**
   * `list` in a space the caller has read already (through a request's loader, say), or `null`
   * when it found none: the same tenancy rule and the same answers, without reading it again.
   * @throws DomainError NOT_FOUND for an absent space or one the principal may not see.
   */
  async listIn(
    principal: Principal,
    space: SpaceEntity | null,
    options: AssetListOptions,
  ): Promise<AssetEntity[]> {
    requireScope(principal, 'assets:read');
    if (!space || !canSee(principal, spaceOwnership(space))) throw notFound('Space');
    const order = options.order ?? { field: 'createdAt', direction: 'DESC' };
    const filter = options.filter ?? {};
    const key = SORT_KEY[order.field];
    const qb = this.db
      .getRepository(AssetEntity)
      .createQueryBuilder('a')
      .where('a.space_id = :space AND a.deleted_at IS NULL', { space: space.id });
    if (filter.tags && filter.tags.length > 0)
      qb.andWhere('a.tags @> :tags', { tags: normalizeTags(filter.tags) });
    if (filter.folder !== undefined && filter.folder !== null) {
      const folder = normalizeFolder(filter.folder);
      if (filter.includeSubfolders) {
        if (folder !== '')
          qb.andWhere('(a.folder = :folder OR a.folder LIKE :prefix)', {
            folder,
            prefix: `${escapeLike(folder)}/%`,
          });
      } else {
        qb.andWhere('a.folder = :folder', { folder });
      }
    }
    if (filter.formats && filter.formats.length > 0)
      qb.andWhere('a.format IN (:...formats)', { formats: [...filter.formats] });
    if (filter.access) qb.andWhere('a.access = :access', { access: filter.access });
    if (filter.createdAfter)
      qb.andWhere('a.created_at >= :after', { after: nextMillisecond(filter.createdAfter) });
    if (filter.createdBefore) qb.andWhere('a.created_at < :before', { before: filter.createdBefore });
    if (filter.search) {
      if (filter.search.length > 200)
        throw badInput('search is at most 200 characters.', { field: 'search' });
      qb.andWhere(`a.filename ILIKE :search ESCAPE '\\'`, { search: `%${escapeLike(filter.search)}%` });
    }
    if (options.after) {
      const op = order.direction === 'ASC' ? '>' : '<';
      qb.andWhere(`(${key}, a.id) ${op} (:cv, :cid)`, {
        cv: cursorValue(order.field, options.after),
        cid: options.after.id,
      });
    }
    return qb
      .orderBy(key, order.direction)
      .addOrderBy('a.id', order.direction)
      .limit(options.limit)
      .getMany();
  }

  /**
   * Changes metadata (filename, tags, folder, access, focal point).
   * @throws DomainError NOT_FOUND, FORBIDDEN (scope), BAD_USER_INPUT.
   */
  async update(principal: Principal, id: string, changes: AssetChanges): Promise<AssetEntity> {
    requireScope(principal, 'assets:write');
    const asset = await this.get(principal, id);
    if (changes.filename !== undefined && changes.filename !== null)
      asset.filename = normalizeFilename(changes.filename, asset.filename);
    if (changes.tags !== undefined && changes.tags !== null) asset.tags = normalizeTags(changes.tags);
    if (changes.folder !== undefined && changes.folder !== null)
      asset.folder = normalizeFolder(changes.folder);
    if (changes.access !== undefined && changes.access !== null) asset.access = changes.access;
    if (changes.focalPoint !== undefined) {
      const point = changes.focalPoint === null ? null : checkFocalPoint(changes.focalPoint);
      asset.focalX = point?.x ?? null;
      asset.focalY = point?.y ?? null;
    }
    return this.db.getRepository(AssetEntity).save(asset);
  }

  /**
   * Soft-deletes an asset; its original and variants leave storage through the cleanup step.
   * @throws DomainError NOT_FOUND, FORBIDDEN.
   */
  async delete(principal: Principal, id: string): Promise<AssetEntity> {
    requireScope(principal, 'assets:write');
    const asset = await this.get(principal, id);
    const result = await this.db
      .createQueryBuilder()
      .update(AssetEntity)
      .set({ deletedAt: () => 'now()' })
      .where('id = :id AND deleted_at IS NULL', { id: asset.id })
      .execute();
    if (result.affected !== 1) throw notFound('Asset');
    this.cleanup.schedule({ kind: 'deleted', assetId: asset.id });
    return asset;
  }

  /** The space of an asset the caller already holds. */
  async spaceOf(asset: AssetEntity): Promise<SpaceEntity> {
    return this.db.getRepository(SpaceEntity).findOneByOrFail({ id: asset.spaceId });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The sort value of a cursor, checked against its field so that a cursor this server did not
 * make never reaches the database.
 * @throws DomainError BAD_USER_INPUT for a malformed cursor.
 */
function cursorValue(field: AssetSortField, cursor: AssetCursor): string | number | Date {
  const { value, id } = cursor;
  const valid =
    UUID.test(id) &&
    (field === 'createdAt' || field === 'updatedAt'
      ? typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value))
      : field === 'bytes'
        ? typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
        : typeof value === 'string');
  if (!valid) throw badInput('Invalid cursor.', { field: 'after' });
  return field === 'createdAt' || field === 'updatedAt' ? new Date(value) : value;
}

/** Escapes LIKE wildcards (with `\` as the escape character). */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

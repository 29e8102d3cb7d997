import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import type { HeldLock, SharedState } from '../cache/cache.js';
import { VariantEntity, type AssetEntity, type SpaceEntity } from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { DomainError, ErrorCode } from '../errors/index.js';
import { renderVariant, type RenderLimits, type SourceFacts } from '../imaging/render.js';
import { ObjectDamagedError, ObjectNotFoundError } from '../storage/errors.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  cropInside,
  extensionOf,
  mimeOf,
  predictSize,
  printPlan,
  type OutputFormat,
  type TransformPlan,
} from '../transforms/index.js';
import type { RenderSlots } from './render-slots.js';

/** Which layer answered a variant request. */
export type CacheLayer = 'memory' | 'redis' | 'registry' | 'storage' | 'render';

export interface VariantMeta {
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  readonly format: OutputFormat;
  readonly contentType: string;
}

export interface DeliveredVariant {
  readonly data: Buffer;
  readonly meta: VariantMeta;
  readonly layer: CacheLayer;
  /** Milliseconds spent rendering, when this request rendered. */
  readonly renderMs?: number;
  /**
   * Resolves when a variant this request rendered is stored with its row, and rejects when it
   * could not be (the answer does not wait for it); absent when the variant was stored already.
   */
  readonly stored?: Promise<void>;
}

/** A variant whose bytes this process holds, as answered from them. */
interface HeldVariant extends DeliveredVariant {
  readonly layer: 'memory';
}

/** A variant to find or make: a canonical plan with its concrete output format. */
export interface VariantRequest {
  readonly asset: AssetEntity;
  /** Canonical plan whose `format` is the concrete output format. */
  readonly plan: TransformPlan;
  readonly format: OutputFormat;
  readonly presetId?: string | null;
  /** Asked before rendering (not for cache hits): throws to refuse, e.g. over a render rate limit. */
  readonly admit?: () => Promise<unknown>;
  /** The asset's space, when the caller has it (spares admission a lookup). */
  readonly space?: SpaceEntity;
  /** The variant's address, when the caller remembers it from an earlier request (`address`). */
  readonly known?: VariantAddress;
}

/** Where a variant is found: its canonical ops string and its content address. */
export interface VariantAddress {
  readonly canonical: string;
  readonly key: string;
}

export interface VariantsOptions {
  readonly renderLimits: RenderLimits;
  /** In-process LRU of hot variant bytes, bytes. */
  readonly memoryBytes: number;
  /** In-process LRU of originals read for renders, bytes (0: none). */
  readonly originalBytes?: number;
  /** Variants up to this size are also kept in the shared cache (Redis). */
  readonly sharedMaxBytes: number;
  readonly sharedTtlSeconds: number;
  readonly avifEffort: number;
  /**
   * Longest wait between a waiter's looks for the render another node is doing (default 50 ms;
   * the first look is after 10 ms, each next wait twice the last).
   */
  readonly pollMs?: number;
  /** Most frames an animated output keeps. */
  readonly maxFrames: number;
  /** Asked before every render (daily render quotas): throws to refuse. */
  readonly admitRender?: (asset: AssetEntity, space: SpaceEntity | undefined) => Promise<void>;
  /** Told of every render this process performs (metering). */
  readonly onRender?: (asset: AssetEntity, ms: number, format: OutputFormat) => void;
  /** Told when a rendered variant could not be stored (the next request renders it again). */
  readonly onStoreError?: (error: unknown, storageKey: string) => void;
}

/** Bytes per pixel an encoder holds beyond the decoded image, roughly (AVIF keeps several planes). */
const ENCODER_FACTOR: Readonly<Record<OutputFormat, number>> = { jpg: 1, png: 1.5, webp: 2, avif: 4, gif: 2 };

/**
 * Estimated peak memory of a render, from the asset's metadata before anything is decoded:
 * the decoded frames (4 bytes a pixel, JPEG shrink-on-load when the output is much smaller)
 * plus the output held by its encoder.
 */
export function estimateRenderMemory(
  asset: Pick<AssetEntity, 'width' | 'height' | 'pages' | 'format'>,
  plan: TransformPlan,
  format: OutputFormat,
): number {
  const animated =
    asset.pages > 1 &&
    (asset.format === 'gif' || asset.format === 'webp') &&
    (format === 'gif' || format === 'webp');
  const frames = animated ? asset.pages : 1;
  const out = predictSize(plan, asset);
  let decode = asset.width * asset.height * 4;
  if (asset.format === 'jpeg' && !plan.crop) {
    const shrink = Math.min(
      8,
      Math.max(1, Math.floor(Math.min(asset.width / out.width, asset.height / out.height))),
    );
    const step = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
    decode /= step * step;
  }
  return Math.round(frames * (decode + out.width * out.height * 4 * ENCODER_FACTOR[format]));
}

/** The asset's original as probed on upload, for the renderer (dimensions as stored, before EXIF orientation). */
export function sourceFacts(
  asset: Pick<AssetEntity, 'width' | 'height' | 'pages' | 'orientation' | 'hasAlpha' | 'format'>,
): SourceFacts {
  const swapped = asset.orientation >= 5;
  return {
    width: swapped ? asset.height : asset.width,
    height: swapped ? asset.width : asset.height,
    pages: asset.pages,
    orientation: asset.orientation,
    hasAlpha: asset.hasAlpha,
    format: asset.format,
  };
}

/** Whether the asset still exists, undeleted, at this version. */
export async function isCurrentVersion(db: DataSource, assetId: string, version: number): Promise<boolean> {
  const rows = (await db.query('SELECT 1 FROM assets WHERE id = $1 AND version = $2 AND deleted_at IS NULL', [
    assetId,
    version,
  ])) as unknown[];
  return rows.length > 0;
}

/** Content address of a variant: asset, version, original bytes, canonical ops and format. */
export function variantKey(
  asset: Pick<AssetEntity, 'id' | 'version' | 'sha256'>,
  canonical: string,
  format: OutputFormat,
): string {
  return createHash('sha256')
    .update(`${asset.id}\n${asset.version}\n${asset.sha256}\n${canonical}\n${format}`)
    .digest('hex');
}

/** Where a variant's bytes live in the object store. */
export const variantStorageKey = (
  asset: Pick<AssetEntity, 'spaceId' | 'id'>,
  key: string,
  format: OutputFormat,
): string => `variants/${asset.spaceId}/${asset.id}/${key}.${extensionOf(format)}`;

/**
 * What the shared cache holds of a variant: its meta with its bytes, or, for a variant larger than
 * the shared cache takes, its meta with where its object is stored (`storageKey`): either way,
 * proof that the variant exists.
 */
type SharedEntry =
  | { readonly meta: VariantMeta; readonly data: Buffer }
  | { readonly meta: VariantMeta; readonly data?: undefined; readonly storageKey: string };

/**
 * Shared-cache value: 4-byte length of the JSON head, the head (the meta, and `storageKey` when the
 * bytes are not there), the bytes (no base64).
 */
function pack(meta: VariantMeta, stored: Buffer | { storageKey: string }): Buffer {
  const bytes = Buffer.isBuffer(stored);
  const json = Buffer.from(JSON.stringify(bytes ? meta : { ...meta, storageKey: stored.storageKey }), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(json.length);
  return bytes ? Buffer.concat([head, json, stored]) : Buffer.concat([head, json]);
}

function unpack(value: Buffer): SharedEntry | undefined {
  if (value.length < 4) return undefined;
  const length = value.readUInt32BE(0);
  if (value.length < 4 + length) return undefined;
  try {
    const { storageKey, ...meta } = JSON.parse(
      value.subarray(4, 4 + length).toString('utf8'),
    ) as VariantMeta & {
      storageKey?: string;
    };
    return typeof storageKey === 'string' ? { meta, storageKey } : { meta, data: value.subarray(4 + length) };
  } catch {
    return undefined;
  }
}

/** A rendered variant on its way to storage: its bytes, and when it is stored (or failed to be). */
interface Unstored {
  readonly meta: VariantMeta;
  readonly data: Buffer;
  readonly settled: Promise<void>;
}

/**
 * The variant keys of one asset version the registry held when last read, so that a render of a
 * variant absent then needs no lookup of its own. Variants stored since by this node are added;
 * those stored by other nodes are found in the shared cache, which every node's stored variants
 * enter for longer than a snapshot is kept. `keys` is null for an asset with too many variants to
 * hold.
 */
interface RegistrySnapshot {
  readonly keys: Set<string> | null;
  readonly until: number;
}

/**
 * How long after its answer a rendered variant goes into the shared cache and storage: the next
 * request of the client that asked (on its connection, within a millisecond or two) is taken
 * first, and the storage work overlaps with renders, while this thread waits for them.
 */
const STORE_DELAY_MS = 10;

/** A waiter's first wait for another node's render (see `VariantsOptions.pollMs`). */
const FIRST_POLL_MS = 10;

/** Most variant keys of one asset version a snapshot holds. */
const SNAPSHOT_KEYS = 2048;
/** Variant keys all snapshots hold together, at most (about 150 bytes each). */
const SNAPSHOT_KEYS_IN_ALL = 100_000;

/** What answering from a variant's row needs of it. */
type StoredRow = Pick<
  VariantEntity,
  'id' | 'variantKey' | 'storageKey' | 'sha256' | 'bytes' | 'width' | 'height' | 'format'
>;

/** A variant's row as `insert` writes it. */
type NewRow = Omit<VariantEntity, 'createdAt'>;

/**
 * The hot path's two statements, written out: one lookup by the unique variant key and one
 * idempotent insert per render (what TypeORM would send, without building it each time).
 */
const FIND_STORED = `SELECT id, variant_key, storage_key, sha256, bytes, width, height, format
  FROM variants WHERE variant_key = $1`;
const INSERT_ROW = `INSERT INTO variants (id, asset_id, space_id, asset_version, canonical, format,
  variant_key, preset_id, storage_key, bytes, sha256, width, height, processing_ms, access_count,
  last_accessed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
  ON CONFLICT DO NOTHING`;

interface StoredColumns {
  id: string;
  variant_key: string;
  storage_key: string;
  sha256: string;
  bytes: string | number;
  width: number;
  height: number;
  format: VariantEntity['format'];
}

const SNAPSHOT = 'SELECT variant_key FROM variants WHERE asset_id = $1 AND asset_version = $2 LIMIT $3';

/** Releases a lock without waiting for it; a release that fails leaves the lock to expire. */
const letGo = (lock: HeldLock | undefined): void => {
  if (lock) void lock.release().catch(() => undefined);
};

const metaOf = (row: StoredRow): VariantMeta => ({
  key: row.variantKey,
  sha256: row.sha256,
  bytes: row.bytes,
  width: row.width,
  height: row.height,
  format: row.format,
  contentType: mimeOf(row.format),
});

/**
 * Finds or makes variants. Lookup order: in-process LRU of hot bytes → shared cache (Redis) →
 * registry row → object storage → render. A render is single-flight across the process (one
 * promise per key) and across nodes (a lock with expiry; waiters poll the registry); the stored
 * object and the row are written once (the insert is idempotent on the variant key).
 */
export class VariantsService {
  /** Hot variants' bytes, each kept as the answer from memory it makes (one object, reused). */
  private readonly hot: LRUCache<string, HeldVariant>;
  /** Originals by storage key (content-addressed: a replaced image has a new key). */
  private readonly originals: LRUCache<string, Buffer> | undefined;
  /** Reads of originals under way, so that renders of one image at once read it once. */
  private readonly reading = new Map<string, Promise<Buffer>>();
  private readonly inFlight = new Map<string, Promise<DeliveredVariant>>();
  private readonly snapshots = new LRUCache<string, RegistrySnapshot>({
    maxSize: SNAPSHOT_KEYS_IN_ALL,
    sizeCalculation: (snapshot) => (snapshot.keys?.size ?? 0) + 1,
  });
  private readonly snapshotting = new Map<string, Promise<RegistrySnapshot>>();
  /** How long a snapshot is trusted: well within the shared cache's lifetime. */
  private readonly snapshotMs: number;
  /**
   * Rendered variants on their way to storage and the registry, with their bytes: this process
   * answers from them until they are stored (its own lock is held meanwhile).
   */
  private readonly storing = new Map<string, Unstored>();
  private rendersDone = 0;

  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly state: SharedState,
    private readonly slots: RenderSlots,
    private readonly options: VariantsOptions,
  ) {
    this.hot = new LRUCache({
      maxSize: Math.max(1, options.memoryBytes),
      sizeCalculation: (entry) => Math.max(1, entry.data.length),
      max: 100_000,
    });
    this.snapshotMs = Math.min(60_000, (options.sharedTtlSeconds * 1000) / 2);
    const originalBytes = options.originalBytes ?? 0;
    this.originals =
      originalBytes > 0
        ? new LRUCache({ maxSize: originalBytes, sizeCalculation: (data) => Math.max(1, data.length) })
        : undefined;
  }

  /** Resolves when every variant rendered so far is stored with its row (or failed to be). */
  async idle(): Promise<void> {
    while (this.storing.size > 0) await Promise.all([...this.storing.values()].map((u) => u.settled));
  }

  /** Renders performed by this process since start. */
  get renders(): number {
    return this.rendersDone;
  }

  /**
   * Finds or makes the variant.
   * @throws DomainError BAD_USER_INPUT (a crop outside the image, known from the asset's size
   *   before anything is read), and the errors of rendering and its limits.
   */
  async deliver(request: VariantRequest): Promise<DeliveredVariant> {
    const { crop } = request.plan;
    if (crop && !cropInside(crop, request.asset)) {
      const token = `c_${crop.x},${crop.y},${crop.width},${crop.height}`;
      throw new DomainError(
        ErrorCode.BadUserInput,
        `The crop ${token} is not inside the ${request.asset.width}×${request.asset.height} image.`,
        {
          details: { token },
        },
      );
    }
    const { canonical, key } = request.known ?? this.address(request.asset, request.plan, request.format);
    const held = this.held(key);
    if (held)
      return { meta: held.meta, data: held.data, layer: 'memory', stored: this.storing.get(key)?.settled };
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.lookupOrRender(key, canonical, request).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  /** The bytes of `key` this process holds: kept in memory, or on their way to storage. */
  private held(key: string): { meta: VariantMeta; data: Buffer } | undefined {
    return this.hot.get(key) ?? this.storing.get(key);
  }

  /** The variant of `key` when this process holds its bytes (counts as a use of them). */
  inMemory(key: string): DeliveredVariant | undefined {
    return this.hot.get(key);
  }

  /** The canonical ops string and content address of a variant. */
  address(asset: AssetEntity, plan: TransformPlan, format: OutputFormat): VariantAddress {
    const canonical = printPlan(plan);
    return { canonical, key: variantKey(asset, canonical, format) };
  }

  /** The registry row of a variant, if it exists. */
  async find(asset: AssetEntity, plan: TransformPlan, format: OutputFormat): Promise<VariantEntity | null> {
    return this.db
      .getRepository(VariantEntity)
      .findOneBy({ variantKey: variantKey(asset, printPlan(plan), format) });
  }

  private remember(meta: VariantMeta, data: Buffer): void {
    if (this.options.memoryBytes > 0 && data.length <= this.options.memoryBytes / 4)
      this.hot.set(meta.key, { meta, data, layer: 'memory' });
  }

  /** The shared-cache entry of `key`: null when there is none, undefined when the cache cannot tell. */
  private async fromShared(key: string): Promise<SharedEntry | null | undefined> {
    try {
      const value = await this.state.get(`variant:${key}`);
      return value ? unpack(value) : null;
    } catch {
      return undefined; // the shared cache is an optimisation: without it, the registry answers
    }
  }

  /**
   * The bytes of a shared-cache entry, from storage when the entry holds only their place;
   * `undefined` when that object is gone (the registry decides then).
   */
  private async sharedBytes(entry: SharedEntry): Promise<Buffer | undefined> {
    if (entry.data) return entry.data;
    try {
      return await this.store.readBuffer(entry.storageKey);
    } catch (error) {
      if (error instanceof ObjectNotFoundError || error instanceof ObjectDamagedError) return undefined;
      throw error;
    }
  }

  /** Puts a stored variant in the shared cache: its bytes, or where they are when too large. */
  private async toShared(meta: VariantMeta, data: Buffer, storageKey: string): Promise<void> {
    const value = data.length > this.options.sharedMaxBytes ? pack(meta, { storageKey }) : pack(meta, data);
    try {
      await this.state.set(`variant:${meta.key}`, value, this.options.sharedTtlSeconds);
    } catch {
      // best effort
    }
  }

  /**
   * True when the registry is known not to hold `key` (a fresh snapshot of the asset version
   * lacks it); reads the snapshot, once for concurrent callers, when there is none.
   */
  private async registryLacks(asset: AssetEntity, key: string): Promise<boolean> {
    const id = `${asset.id}:${asset.version}`;
    let snapshot = this.snapshots.get(id);
    if (!snapshot || snapshot.until <= Date.now()) {
      let reading = this.snapshotting.get(id);
      if (!reading) {
        reading = this.readSnapshot(asset).finally(() => this.snapshotting.delete(id));
        this.snapshotting.set(id, reading);
      }
      snapshot = await reading;
      this.snapshots.set(id, snapshot);
    }
    return snapshot.keys !== null && !snapshot.keys.has(key);
  }

  private async readSnapshot(asset: AssetEntity): Promise<RegistrySnapshot> {
    const until = Date.now() + this.snapshotMs;
    const rows = (await this.db.query(SNAPSHOT, [asset.id, asset.version, SNAPSHOT_KEYS + 1])) as {
      variant_key: string;
    }[];
    return {
      keys: rows.length > SNAPSHOT_KEYS ? null : new Set(rows.map((row) => row.variant_key)),
      until,
    };
  }

  /** A variant this node stored, in its asset version's snapshot. */
  private noteStored(asset: Pick<AssetEntity, 'id' | 'version'>, key: string): void {
    const id = `${asset.id}:${asset.version}`;
    const snapshot = this.snapshots.get(id);
    if (!snapshot?.keys) return;
    if (snapshot.keys.size >= SNAPSHOT_KEYS) {
      this.snapshots.delete(id);
      return;
    }
    snapshot.keys.add(key);
    this.snapshots.set(id, { ...snapshot }); // a new entry: counted at its new size
  }

  private async storedRow(key: string): Promise<StoredRow | undefined> {
    const [found] = (await this.db.query(FIND_STORED, [key])) as StoredColumns[];
    return (
      found && {
        id: found.id,
        variantKey: found.variant_key,
        storageKey: found.storage_key,
        sha256: found.sha256,
        bytes: Number(found.bytes),
        width: found.width,
        height: found.height,
        format: found.format,
      }
    );
  }

  private async fromRegistry(key: string): Promise<{ row: StoredRow; data: Buffer } | undefined> {
    const row = await this.storedRow(key);
    if (!row) return undefined;
    try {
      return { row, data: await this.store.readBuffer(row.storageKey) };
    } catch (error) {
      if (error instanceof ObjectNotFoundError || error instanceof ObjectDamagedError) {
        // A row whose object is gone (cleanup raced, manual deletion) or was cut short by a crash
        // before it reached the disk: forget it and render again.
        await this.db.getRepository(VariantEntity).delete({ id: row.id });
        return undefined;
      }
      throw error;
    }
  }

  /** A variant found through the shared cache, kept in memory on the way. */
  private fromSharedEntry(entry: SharedEntry, data: Buffer): DeliveredVariant {
    this.remember(entry.meta, data);
    return { meta: entry.meta, data, layer: entry.data ? 'redis' : 'storage' };
  }

  /** Shared cache, then registry and storage; `undefined` when the variant was never rendered. */
  private async lookup(key: string): Promise<DeliveredVariant | undefined> {
    const shared = await this.fromShared(key);
    const data = shared && (await this.sharedBytes(shared));
    if (shared && data) return this.fromSharedEntry(shared, data);
    const stored = await this.fromRegistry(key);
    return stored ? this.fromStored(stored) : undefined;
  }

  /** The variant if it exists anywhere, without rendering it. */
  async peek(key: string): Promise<DeliveredVariant | undefined> {
    const held = this.held(key);
    if (held) return { meta: held.meta, data: held.data, layer: 'memory' };
    return this.lookup(key);
  }

  /**
   * Shared cache, registry, or a render, once per key across nodes. The shared-cache read and the
   * render lock go out together; with the lock held the registry is authoritative (a renderer keeps
   * the lock until its row is written), so one query decides between the stored variant and a
   * render. Without the lock, another node is rendering: wait for its row.
   */
  private async lookupOrRender(
    key: string,
    canonical: string,
    request: VariantRequest,
  ): Promise<DeliveredVariant> {
    const lockTtl = this.options.renderLimits.timeoutSeconds * 1000 + 15_000;
    const [shared, lock] = await Promise.all([this.fromShared(key), this.acquire(key, lockTtl)]);
    if (shared) {
      const data = await this.sharedBytes(shared).catch((error: unknown) => {
        letGo(lock);
        throw error;
      });
      if (data) {
        letGo(lock);
        return this.fromSharedEntry(shared, data);
      }
    }
    // Known to be absent from the shared cache: the registry's snapshot may tell that the variant
    // was never made (not when the cache could not be read, nor when its entry's object is gone).
    if (lock) return this.withLock(key, canonical, request, lock, shared === null);
    const deadline = Date.now() + lockTtl + 5000;
    // The render's row is written moments after its answer: look again soon, then less often.
    const poll = this.options.pollMs ?? 50;
    let wait = Math.min(FIRST_POLL_MS, poll);
    for (;;) {
      const stored = await this.fromRegistry(key);
      if (stored) return this.fromStored(stored);
      if (Date.now() > deadline) {
        throw new DomainError(
          ErrorCode.ServiceUnavailable,
          'The image is still being rendered; retry shortly.',
          { retryAfterSeconds: 2 },
        );
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(poll, wait * 2);
      // The renderer may have failed and let go: take over.
      const taken = await this.acquire(key, lockTtl);
      if (taken) return this.withLock(key, canonical, request, taken, false);
    }
  }

  /**
   * With the render lock held, the registry is authoritative: its row, or a render (which keeps
   * the lock until the variant is stored). `sharedMissed`: the shared cache, read together with
   * taking the lock, had nothing: every variant stored since the asset's snapshot would have been
   * there, so a variant the snapshot lacks needs no lookup.
   */
  private async withLock(
    key: string,
    canonical: string,
    request: VariantRequest,
    lock: HeldLock,
    sharedMissed: boolean,
  ): Promise<DeliveredVariant> {
    let handedOver = false;
    try {
      const lacks = sharedMissed && (await this.registryLacks(request.asset, key));
      const stored = lacks ? undefined : await this.fromRegistry(key);
      if (stored) return this.fromStored(stored);
      const rendered = await this.render(key, canonical, request, lock);
      handedOver = true;
      return rendered;
    } finally {
      if (!handedOver) letGo(lock);
    }
  }

  /** The render lock of `key`; without shared state, a stand-in (the insert stays idempotent). */
  private async acquire(key: string, ttlMs: number): Promise<HeldLock | undefined> {
    try {
      return await this.state.tryAcquire(`render:${key}`, ttlMs);
    } catch {
      return { key, release: async () => undefined };
    }
  }

  /** A variant read from the registry and storage, kept in the faster layers on the way. */
  private fromStored(stored: { row: StoredRow; data: Buffer }): DeliveredVariant {
    const meta = metaOf(stored.row);
    this.remember(meta, stored.data);
    void this.toShared(meta, stored.data, stored.row.storageKey);
    return { meta, data: stored.data, layer: 'registry' };
  }

  /**
   * Renders and answers at once; the object and then its row are written in the background while
   * the lock stays held (other nodes wait for the row), and the bytes are served from memory.
   */
  private async render(
    key: string,
    canonical: string,
    request: VariantRequest,
    lock: HeldLock,
  ): Promise<DeliveredVariant> {
    const { asset, format } = request;
    const animatedOut =
      asset.pages > 1 &&
      (asset.format === 'gif' || asset.format === 'webp') &&
      (format === 'gif' || format === 'webp');
    if (animatedOut && asset.pages > this.options.maxFrames) {
      throw new DomainError(
        ErrorCode.LimitExceeded,
        `This animation has ${asset.pages} frames; at most ${this.options.maxFrames} are rendered. Ask for a still format (jpg, png, avif) for its first frame.`,
        { details: { frames: asset.pages, maxFrames: this.options.maxFrames } },
      );
    }
    await request.admit?.();
    await this.options.admitRender?.(asset, request.space);
    const started = Date.now();
    const rendered = await this.slots.run(
      async () => {
        const original = await this.readOriginal(asset);
        return renderVariant(original, request.plan, {
          format,
          source: sourceFacts(asset),
          focalPoint:
            asset.focalX === null || asset.focalY === null ? null : { x: asset.focalX, y: asset.focalY },
          limits: this.options.renderLimits,
          avifEffort: this.options.avifEffort,
        });
      },
      estimateRenderMemory(asset, request.plan, format),
    );
    const processingMs = Date.now() - started;
    this.rendersDone += 1;
    this.options.onRender?.(asset, processingMs, format);
    const sha256 = createHash('sha256').update(rendered.data).digest('hex');
    const meta: VariantMeta = {
      key,
      sha256,
      bytes: rendered.bytes,
      width: rendered.width,
      height: rendered.height,
      format,
      contentType: mimeOf(format),
    };
    this.remember(meta, rendered.data);
    const row = {
      id: uuidv7(),
      assetId: asset.id,
      spaceId: asset.spaceId,
      assetVersion: asset.version,
      canonical,
      format,
      variantKey: key,
      presetId: request.presetId ?? null,
      storageKey: variantStorageKey(asset, key, format),
      bytes: rendered.bytes,
      sha256,
      width: rendered.width,
      height: rendered.height,
      processingMs,
      accessCount: 0,
      lastAccessedAt: null,
    };
    // `stored` fails when the variant could not be stored (a job awaiting it retries); the
    // bookkeeping below handles that failure, so an answer that does not await it loses nothing.
    // Moments after the answer (the client's next request is read first): the bytes into the
    // shared cache while the object and then the row are written; a variant too large for the
    // shared cache leaves its place there once stored, with the lock's release (one round trip).
    // Until then this process answers from the bytes it holds, and another node waits for the row
    // (the lock is held).
    const shared = rendered.data.length <= this.options.sharedMaxBytes;
    const stored = new Promise<void>((resolve) => setTimeout(resolve, STORE_DELAY_MS)).then(async () => {
      await Promise.all([
        shared ? this.toShared(meta, rendered.data, row.storageKey) : undefined,
        this.persist(row, meta, rendered.data),
      ]);
    });
    const settled: Promise<void> = stored.then(
      () => {
        this.done(key, settled);
        this.noteStored(asset, key);
        if (!shared) void this.toShared(meta, rendered.data, row.storageKey);
        letGo(lock);
      },
      (error: unknown) => {
        this.done(key, settled);
        this.hot.delete(key);
        if (shared) void this.state.delete(`variant:${key}`).catch(() => undefined);
        letGo(lock);
        this.options.onStoreError?.(error, row.storageKey);
      },
    );
    this.storing.set(key, { meta, data: rendered.data, settled });
    return { meta, data: rendered.data, layer: 'render', renderMs: processingMs, stored };
  }

  /** The variant of `key` is no longer on its way to storage (as `settled`). */
  private done(key: string, settled: Promise<void>): void {
    if (this.storing.get(key)?.settled === settled) this.storing.delete(key);
  }

  /** Writes a rendered variant's object, then its row; leaves no object without a row. */
  private async persist(row: NewRow, meta: VariantMeta, data: Buffer): Promise<void> {
    await this.store.write(row.storageKey, data, {
      contentType: meta.contentType,
      bytes: data.length,
      cacheControl: 'public, max-age=31536000, immutable',
      durable: false, // made again if a crash loses it
    });
    try {
      await this.db.query(INSERT_ROW, [
        row.id,
        row.assetId,
        row.spaceId,
        row.assetVersion,
        row.canonical,
        row.format,
        row.variantKey,
        row.presetId,
        row.storageKey,
        row.bytes,
        row.sha256,
        row.width,
        row.height,
        row.processingMs,
        row.accessCount,
        row.lastAccessedAt,
      ]);
    } catch (error) {
      // The asset went away while rendering (its row is gone): leave no object without a row.
      await this.store.delete(row.storageKey).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The original's bytes. Missing because the asset was deleted or replaced since the request
   * found it (cleanup removed the file): NOT_FOUND, as the request would have been answered a
   * moment later. Missing while the asset is current is a fault of storage, and stays one.
   */
  private async readOriginal(asset: AssetEntity): Promise<Buffer> {
    const key = asset.storageKey;
    const cached = this.originals?.get(key);
    if (cached) return cached;
    let reading = this.reading.get(key);
    if (!reading) {
      reading = this.store.readBuffer(key).finally(() => this.reading.delete(key));
      this.reading.set(key, reading);
    }
    try {
      const data = await reading;
      this.originals?.set(key, data);
      return data;
    } catch (error) {
      if (error instanceof ObjectNotFoundError && !(await isCurrentVersion(this.db, asset.id, asset.version)))
        throw new DomainError(
          ErrorCode.NotFound,
          'The image was deleted or replaced while it was being rendered.',
        );
      throw error;
    }
  }

  /** Drops hot copies (after a delete or replace). */
  forget(keys: readonly string[]): void {
    for (const key of keys) this.hot.delete(key);
  }
}

/** Registry queries about variants (for GraphQL). */
export class VariantQueries {
  constructor(private readonly db: DataSource) {}

  /**
   * The first `first` variants (after `after`, by creation) of the current version of each asset,
   * in one query whatever the number of assets: the rows ranked per asset by a window function,
   * read as entities. Creation times are stored to the microsecond but reach cursors to the
   * millisecond: ordering and comparing on the millisecond keeps a cursor's own row from coming
   * back on the next page.
   */
  async forAssets(
    assets: readonly Pick<AssetEntity, 'id' | 'version'>[],
    first: number,
    after?: { createdAt: Date; id: string },
  ): Promise<Map<string, VariantEntity[]>> {
    const result = new Map<string, VariantEntity[]>(assets.map((a) => [a.id, []]));
    if (assets.length === 0) return result;
    const afterClause = after
      ? `AND (date_trunc('milliseconds', w.created_at), w.id) > (:afterCreatedAt, :afterId)`
      : '';
    const rows = await this.db
      .getRepository(VariantEntity)
      .createQueryBuilder('v')
      .where(
        `v.id IN (
           SELECT ranked.id FROM (
             SELECT w.id, row_number() OVER (
               PARTITION BY w.asset_id ORDER BY date_trunc('milliseconds', w.created_at), w.id
             ) AS n
             FROM variants w
             JOIN unnest(CAST(:assetIds AS uuid[]), CAST(:versions AS int[])) AS a(id, version)
               ON w.asset_id = a.id AND w.asset_version = a.version
             WHERE true ${afterClause}
           ) ranked WHERE ranked.n <= :first
         )`,
        {
          assetIds: assets.map((a) => a.id),
          versions: assets.map((a) => a.version),
          first,
          ...(after && { afterCreatedAt: after.createdAt, afterId: after.id }),
        },
      )
      .orderBy(`date_trunc('milliseconds', v.created_at)`, 'ASC')
      .addOrderBy('v.id', 'ASC')
      .getMany();
    for (const row of rows) result.get(row.assetId)?.push(row);
    return result;
  }

  async byId(id: string): Promise<VariantEntity | null> {
    return this.db.getRepository(VariantEntity).findOneBy({ id });
  }

  async byKey(key: string): Promise<VariantEntity | null> {
    return this.db.getRepository(VariantEntity).findOneBy({ variantKey: key });
  }
}

/**
 * The embedded object store: objects as files under one root directory.
 *
 * Layout: key `a/b/photo.jpg` is the file `<root>/a/b/photo.jpg~obj`. `~` cannot occur in a key,
 * so object files never collide with the directories of longer keys (`a` and `a/b` can both
 * exist, as on S3), nor with temporary files (`.~tmp-<uuid>`).
 *
 * Each object file starts with a 1024-byte header, UTF-8 JSON padded with spaces and ended by a
 * newline (`{"format":"tessera-object/1","contentType":…,"bytes":…,"etag":…}`), followed by the
 * object's bytes. Keeping the media type in the same file as the bytes means one rename publishes
 * both together: concurrent writers of one key can never leave one writer's bytes with another's
 * type, which a sidecar file could.
 *
 * Writes are atomic and durable: the body goes to a temporary file in the object's directory,
 * which is fsynced, renamed over the object and followed by an fsync of the directory. A failed
 * write removes its temporary file. A write that need not be durable (a variant, made again if a
 * crash loses it) skips the fsyncs, and a small one is made with synchronous calls. Reads open the
 * file once, so a concurrent overwrite never mixes two versions. Keys are checked by the shared
 * grammar (no `..`, no leading `/`) and every resolved directory must lie inside the root once
 * symbolic links are followed; object files that are symbolic links are refused. Resolved
 * directories are remembered (a bounded number), so that writing into a known directory costs no
 * lookups: a remembered directory that was removed since is resolved, and created, again.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  openSync,
  renameSync,
  unlinkSync,
  writevSync,
  type Dirent,
} from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rmdir,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Readable } from 'node:stream';
import {
  assertByteRange,
  assertMaxBytes,
  assertWriteOptions,
  resolvePresignPostOptions,
} from './arguments.js';
import {
  InvalidObjectKeyError,
  ObjectDamagedError,
  ObjectNotFoundError,
  ObjectRangeNotSatisfiableError,
  ObjectSizeMismatchError,
  ObjectTooLargeError,
  StorageError,
  StorageUnavailableError,
} from './errors.js';
import {
  assertUploadSecret,
  signLocalPostPolicy,
  verifyLocalPostPolicy,
  type LocalPostPolicy,
  type UploadFormFields,
} from './local-post-policy.js';
import { assertKeyPrefix, assertObjectKey, isObjectKey } from './object-key.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PresignedPost,
  PresignPostOptions,
  WriteOptions,
} from './object-store.js';
import { chunkToBuffer } from './streams.js';

/** Size of the header at the start of every object file, in bytes. */
export const LOCAL_OBJECT_HEADER_BYTES = 1024;

/** Suffix of object files: `~` is not a key character, so it marks files that hold objects. */
export const LOCAL_OBJECT_SUFFIX = '~obj';

/** Path of the upload form route under `uploadBaseUrl`. */
export const LOCAL_UPLOAD_PATH = '/uploads';

const FORMAT = 'tessera-object/1';
const TEMP_PREFIX = '.~tmp-';
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
/** Deletions run at once by `deleteMany`. */
const DELETE_CONCURRENCY = 8;
/** Resolved directories remembered (each a few hundred bytes). */
const RESOLVED_DIRECTORIES = 4096;
/**
 * Largest write that need not be durable made with synchronous calls: to the page cache, open,
 * write, close and rename take tens of microseconds each, less than handing each to the thread pool.
 */
const SYNC_WRITE_MAX_BYTES = 1 << 20;

/** Options of `LocalObjectStore`. */
export interface LocalObjectStoreOptions {
  /** Directory holding the objects; created (with parents) on first use. */
  root: string;
  /** Public origin of Tessera, e.g. `http://localhost:4000`: forms are posted to `${uploadBaseUrl}/uploads`. */
  uploadBaseUrl: string;
  /** HMAC-SHA256 secret that signs upload forms: at least 32 bytes, the same on every node. */
  uploadSecret: string | Uint8Array;
  /** Current time, for form expiry. Default: the system clock. */
  clock?: () => Date;
}

interface ObjectHeader {
  contentType: string;
  bytes: number;
  etag: string;
  cacheControl?: string;
}

interface Located {
  /** Real path of the object's directory, inside the root. */
  dir: string;
  /** Path of the object file. */
  file: string;
}

/** The errno code of a file system error (checked by shape: such errors may come from another realm). */
const errnoCode = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
};

const isMissing = (error: unknown): boolean => {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const UNAVAILABLE_CODES = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EMFILE',
  'ENFILE',
  'EBUSY',
]);

/** Maps a file system error to a storage error. */
function fsError(error: unknown, key: string | undefined, action: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = errnoCode(error);
  const message = `Local storage could not ${action}${key === undefined ? '' : ` ${key}`}${code === undefined ? '' : ` (${code})`}.`;
  if (code !== undefined && UNAVAILABLE_CODES.has(code))
    return new StorageUnavailableError(message, { key, cause: error });
  return new StorageError(message, { key, cause: error });
}

function encodeHeader(header: ObjectHeader): Buffer {
  const json = JSON.stringify({ format: FORMAT, ...header });
  if (Buffer.byteLength(json, 'utf8') > LOCAL_OBJECT_HEADER_BYTES - 1) {
    throw new RangeError('Expected object metadata to fit the local object header');
  }
  return Buffer.from(`${json.padEnd(LOCAL_OBJECT_HEADER_BYTES - 1, ' ')}\n`, 'utf8');
}

const headerOf = (options: WriteOptions, bytes: number, etag: string): ObjectHeader => ({
  contentType: options.contentType,
  bytes,
  etag,
  ...(options.cacheControl === undefined ? {} : { cacheControl: options.cacheControl }),
});

function decodeHeader(raw: Buffer, fileSize: number, key: string): ObjectHeader {
  let parsed: unknown;
  if (raw.length === LOCAL_OBJECT_HEADER_BYTES && raw[LOCAL_OBJECT_HEADER_BYTES - 1] === 0x0a) {
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      parsed = undefined;
    }
  }
  if (typeof parsed === 'object' && parsed !== null) {
    const h = parsed as Record<string, unknown>;
    if (
      h.format === FORMAT &&
      typeof h.contentType === 'string' &&
      typeof h.etag === 'string' &&
      typeof h.bytes === 'number' &&
      h.bytes === fileSize - LOCAL_OBJECT_HEADER_BYTES &&
      (h.cacheControl === undefined || typeof h.cacheControl === 'string')
    ) {
      return {
        contentType: h.contentType,
        bytes: h.bytes,
        etag: h.etag,
        ...(typeof h.cacheControl === 'string' ? { cacheControl: h.cacheControl } : {}),
      };
    }
  }
  throw new ObjectDamagedError(`Local object ${key} is damaged: its header does not describe its file.`, key);
}

async function writeAll(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** Writes `buffers` one after another from `position`: one call when the system takes them whole. */
async function writeAllOf(handle: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  let skip = bytesWritten;
  let at = position;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
    } else {
      await writeAll(handle, buffer.subarray(skip), at + skip);
      skip = 0;
    }
    at += buffer.length;
  }
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let offset = 0;
  while (offset < length) {
    const { bytesRead } = await handle.read(buffer, offset, length - offset, position + offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  return offset === length ? buffer : buffer.subarray(0, offset);
}

/** `writeAllOf` with synchronous calls. */
function writeAllOfSync(fd: number, buffers: readonly Buffer[], position: number): void {
  let at = position;
  for (const buffer of buffers) {
    for (let offset = 0; offset < buffer.length;) {
      offset += writevSync(fd, [buffer.subarray(offset)], at + offset);
    }
    at += buffer.length;
  }
}

/** Flushes a directory's entries to disk; platforms that cannot open directories are skipped. */
async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

const inside = (root: string, path: string): boolean =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

const objectInfo = (key: string, header: ObjectHeader, lastModified: Date): ObjectInfo => ({
  key,
  bytes: header.bytes,
  contentType: header.contentType,
  etag: header.etag,
  lastModified,
  ...(header.cacheControl === undefined ? {} : { cacheControl: header.cacheControl }),
});

/** An open object file with its decoded header. */
interface OpenObject {
  handle: FileHandle;
  header: ObjectHeader;
  lastModified: Date;
}

/** Objects as files under one directory; see the module documentation for the layout. */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  /** Where upload forms are posted: `${uploadBaseUrl}/uploads`. */
  readonly uploadUrl: string;
  private readonly rootOption: string;
  private readonly uploadSecret: string | Uint8Array;
  private readonly clock: () => Date;
  private rootPath: string | undefined;
  /** Real paths of directories resolved inside the root, by their lexical path. */
  private readonly resolved = new Map<string, string>();

  /** @throws RangeError when the upload secret is shorter than 32 bytes or the base URL is not http(s). */
  constructor(options: LocalObjectStoreOptions) {
    assertUploadSecret(options.uploadSecret);
    let base: URL;
    try {
      base = new URL(options.uploadBaseUrl);
    } catch {
      throw new RangeError(
        `Expected an http(s) URL for uploadBaseUrl but received ${JSON.stringify(options.uploadBaseUrl)}`,
      );
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new RangeError(
        `Expected an http(s) URL for uploadBaseUrl but received ${JSON.stringify(options.uploadBaseUrl)}`,
      );
    }
    this.rootOption = options.root;
    this.uploadUrl = `${options.uploadBaseUrl.replace(/\/+$/, '')}${LOCAL_UPLOAD_PATH}`;
    this.uploadSecret = options.uploadSecret;
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Real path of the root directory, created on first use.
   * @throws StorageUnavailableError when it cannot be created or resolved.
   */
  async root(): Promise<string> {
    if (this.rootPath !== undefined) return this.rootPath;
    try {
      await mkdir(this.rootOption, { recursive: true });
      this.rootPath = await realpath(this.rootOption);
      return this.rootPath;
    } catch (error) {
      throw new StorageUnavailableError(`Local storage root ${this.rootOption} is not usable.`, {
        cause: error,
      });
    }
  }

  /**
   * The directory and file of a key; `undefined` when its directory does not exist and `create` is
   * false. A directory resolved before is taken as it was unless `fresh`.
   */
  private async locate(
    key: string,
    create: boolean,
    fresh = false,
  ): Promise<(Located & { made: string | undefined }) | undefined> {
    const root = await this.root();
    const segments = key.split('/');
    const name = `${segments.pop() ?? ''}${LOCAL_OBJECT_SUFFIX}`;
    const lexical = join(root, ...segments);
    const known = fresh ? undefined : this.resolved.get(lexical);
    if (known !== undefined) return { dir: known, file: join(known, name), made: undefined };
    let made: string | undefined;
    let dir: string;
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (create) {
          // mkdir follows symbolic links: check the deepest existing directory before creating any.
          await this.assertExistingInside(root, lexical, key);
          const first = await mkdir(lexical, { recursive: true });
          if (first !== undefined && (made === undefined || first.length < made.length)) made = first;
        }
        dir = await realpath(lexical);
        break;
      } catch (error) {
        if (!create && isMissing(error)) return undefined;
        // A concurrent delete pruned a directory on the way while it was being created: again.
        if (create && isMissing(error) && attempt < 5) continue;
        if (errnoCode(error) === 'ENOTDIR' || errnoCode(error) === 'EEXIST') {
          throw new StorageError(
            `Local storage cannot place ${key}: a foreign file stands where its directory belongs.`,
            { key, cause: error },
          );
        }
        throw fsError(error, key, 'resolve');
      }
    }
    if (!inside(root, dir)) throw new InvalidObjectKeyError(key, 'it resolves outside the storage root');
    if (this.resolved.size >= RESOLVED_DIRECTORIES) this.resolved.delete(this.resolved.keys().next().value!);
    this.resolved.set(lexical, dir);
    return { dir, file: join(dir, name), made };
  }

  /** Throws when the deepest existing directory on the way to `lexical` resolves outside the root. */
  private async assertExistingInside(root: string, lexical: string, key: string): Promise<void> {
    for (let probe = lexical; ; probe = dirname(probe)) {
      let real: string;
      try {
        real = await realpath(probe);
      } catch (error) {
        if (isMissing(error) && probe !== root && inside(root, probe)) continue;
        throw error;
      }
      if (!inside(root, real)) throw new InvalidObjectKeyError(key, 'it resolves outside the storage root');
      return;
    }
  }

  /** Opens an object file and reads its header; `undefined` when it does not exist. */
  private async openObject(key: string): Promise<OpenObject | undefined> {
    const located = await this.locate(key, false);
    return located === undefined ? undefined : this.openFile(located.file, key);
  }

  private async openFile(file: string, key: string): Promise<OpenObject | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, fsConstants.O_RDONLY | O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error)) return undefined;
      if (errnoCode(error) === 'ELOOP') throw new InvalidObjectKeyError(key, 'its file is a symbolic link');
      throw fsError(error, key, 'open');
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new StorageError(`Local object ${key} is not a regular file.`, { key });
      const header = decodeHeader(await readExactly(handle, LOCAL_OBJECT_HEADER_BYTES, 0), stats.size, key);
      return { handle, header, lastModified: new Date(stats.mtimeMs) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw fsError(error, key, 'read');
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertObjectKey(key);
    const object = await this.openObject(key);
    if (object === undefined) return undefined;
    await object.handle.close().catch(() => undefined);
    return objectInfo(key, object.header, object.lastModified);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertObjectKey(key);
    if (range !== undefined) assertByteRange(range);
    const object = await this.openObject(key);
    if (object === undefined) throw new ObjectNotFoundError(key);
    const { handle, header } = object;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? header.bytes - 1, header.bytes - 1);
    if (range !== undefined && start >= header.bytes) {
      await handle.close().catch(() => undefined);
      throw new ObjectRangeNotSatisfiableError(key, header.bytes);
    }
    if (header.bytes === 0) {
      await handle.close().catch(() => undefined);
      return Readable.from([]);
    }
    return handle.createReadStream({
      start: LOCAL_OBJECT_HEADER_BYTES + start,
      end: LOCAL_OBJECT_HEADER_BYTES + end,
      autoClose: true,
    });
  }

  async readBuffer(key: string, maxBytes?: number): Promise<Buffer> {
    assertObjectKey(key);
    if (maxBytes !== undefined) assertMaxBytes(maxBytes);
    const object = await this.openObject(key);
    if (object === undefined) throw new ObjectNotFoundError(key);
    const { handle, header } = object;
    try {
      if (maxBytes !== undefined && header.bytes > maxBytes)
        throw new ObjectTooLargeError(key, maxBytes, header.bytes);
      const buffer = await readExactly(handle, header.bytes, LOCAL_OBJECT_HEADER_BYTES).catch(
        (error: unknown) => {
          throw fsError(error, key, 'read');
        },
      );
      if (buffer.length !== header.bytes)
        throw new ObjectDamagedError(`Local object ${key} is shorter than its header says.`, key);
      return buffer;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async write(key: string, body: Readable | Buffer, options: WriteOptions): Promise<ObjectInfo> {
    assertObjectKey(key);
    assertWriteOptions(options);
    // Fails now, before a byte of the body is read, when the metadata cannot fit the header.
    encodeHeader({
      contentType: options.contentType,
      bytes: Number.MAX_SAFE_INTEGER,
      etag: 'f'.repeat(32),
      cacheControl: options.cacheControl,
    });
    if (Buffer.isBuffer(body) && options.durable === false && body.length <= SYNC_WRITE_MAX_BYTES)
      return this.writeSmall(key, body, options);
    const step = <T>(promise: Promise<T>, action: string): Promise<T> =>
      promise.catch((error: unknown) => {
        throw fsError(error, key, action);
      });

    // Create the temporary file; retry when a concurrent delete pruned the fresh directory.
    let located: Located | undefined;
    let made: string | undefined;
    let temp = '';
    let handle: FileHandle | undefined;
    for (let attempt = 0; handle === undefined; attempt += 1) {
      const where = await this.locate(key, true, attempt > 0);
      if (where === undefined)
        throw new StorageError(`Local storage could not create the directory of ${key}.`, { key });
      made ??= where.made;
      located = where;
      temp = join(where.dir, `${TEMP_PREFIX}${randomUUID()}`);
      try {
        handle = await open(temp, 'wx', 0o644);
      } catch (error) {
        if (!(isMissing(error) && attempt < 3)) {
          if (body instanceof Readable) body.destroy();
          throw fsError(error, key, 'create a temporary file for');
        }
      }
    }
    if (located === undefined) throw new StorageError(`Local storage could not place ${key}.`, { key });

    let closed = false;
    try {
      const md5 = createHash('md5');
      let bytes = 0;
      const declared = options.bytes;
      let header: ObjectHeader;
      if (Buffer.isBuffer(body)) {
        md5.update(body);
        bytes = body.length;
        if (declared !== undefined && declared !== bytes)
          throw new ObjectSizeMismatchError(key, declared, bytes);
        header = headerOf(options, bytes, md5.digest('hex'));
        await step(writeAllOf(handle, [encodeHeader(header), body], 0), 'write');
      } else {
        for await (const chunk of body) {
          const buffer = chunkToBuffer(chunk);
          if (declared !== undefined && bytes + buffer.length > declared) {
            throw new ObjectSizeMismatchError(key, declared, bytes + buffer.length);
          }
          md5.update(buffer);
          await step(writeAll(handle, buffer, LOCAL_OBJECT_HEADER_BYTES + bytes), 'write');
          bytes += buffer.length;
        }
        if (declared !== undefined && declared !== bytes)
          throw new ObjectSizeMismatchError(key, declared, bytes);
        header = headerOf(options, bytes, md5.digest('hex'));
        await step(writeAll(handle, encodeHeader(header), 0), 'write');
      }
      const durable = options.durable !== false;
      if (durable) await step(handle.sync(), 'flush');
      closed = true;
      await step(handle.close(), 'close');
      const written = new Date();
      await step(rename(temp, located.file), 'publish');
      temp = '';
      if (durable) await step(this.syncDirectories(located.dir, made), 'flush the directory of');
      return objectInfo(key, header, written);
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      if (temp !== '') await unlink(temp).catch(() => undefined);
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw error;
    }
  }

  /** A small write that need not be durable: the same steps as `write`, each a synchronous call. */
  private async writeSmall(key: string, body: Buffer, options: WriteOptions): Promise<ObjectInfo> {
    if (options.bytes !== undefined && options.bytes !== body.length)
      throw new ObjectSizeMismatchError(key, options.bytes, body.length);
    const header = headerOf(options, body.length, createHash('md5').update(body).digest('hex'));
    const encoded = encodeHeader(header);
    for (let attempt = 0; ; attempt += 1) {
      const where = await this.locate(key, true, attempt > 0);
      if (where === undefined)
        throw new StorageError(`Local storage could not create the directory of ${key}.`, { key });
      const temp = join(where.dir, `${TEMP_PREFIX}${randomUUID()}`);
      let fd: number;
      try {
        fd = openSync(temp, 'wx', 0o644);
      } catch (error) {
        // a concurrent delete pruned the directory: resolve (and create) it again
        if (isMissing(error) && attempt < 3) continue;
        throw fsError(error, key, 'create a temporary file for');
      }
      try {
        try {
          writeAllOfSync(fd, [encoded, body], 0);
        } finally {
          closeSync(fd);
        }
        renameSync(temp, where.file);
        return objectInfo(key, header, new Date());
      } catch (error) {
        try {
          unlinkSync(temp);
        } catch {
          // already gone
        }
        throw fsError(error, key, 'write');
      }
    }
  }

  /** Fsyncs `dir` and, when directories were created for it, each parent up to the first existing one. */
  private async syncDirectories(dir: string, made: string | undefined): Promise<void> {
    const chain = [dir];
    if (made !== undefined) {
      const stop = dirname(made);
      for (let current = dir; current !== stop && current !== dirname(current);) {
        current = dirname(current);
        chain.push(current);
      }
    }
    for (const path of chain) await syncDirectory(path);
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    await this.remove(key);
  }

  private async remove(key: string): Promise<void> {
    const located = await this.locate(key, false);
    if (located === undefined) return;
    try {
      await unlink(located.file);
    } catch (error) {
      if (isMissing(error)) return;
      throw fsError(error, key, 'delete');
    }
    // Remove directories left empty, up to the root; a concurrent writer's temp file keeps its own.
    const root = await this.root();
    for (let dir = located.dir; dir !== root && inside(root, dir); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertObjectKey(key);
    const pending = [...new Set(keys)];
    const worker = async (): Promise<void> => {
      for (let key = pending.pop(); key !== undefined; key = pending.pop()) await this.remove(key);
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, pending.length) }, worker));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    const root = await this.root();
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    const partial = prefix.slice(slash + 1);
    let dir = root;
    if (dirKey !== '') {
      try {
        dir = await realpath(join(root, ...dirKey.split('/')));
      } catch (error) {
        if (isMissing(error)) return;
        throw fsError(error, prefix, 'list');
      }
      if (!inside(root, dir)) throw new InvalidObjectKeyError(prefix, 'it resolves outside the storage root');
    }
    yield* this.walk(dir, dirKey === '' ? '' : `${dirKey}/`, partial);
  }

  /** Objects under `dir` (whose keys start with `keyPrefix`) whose next segment starts with `partial`, in key order. */
  private async *walk(dir: string, keyPrefix: string, partial: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw fsError(error, keyPrefix, 'list');
    }
    const items: { order: string; name: string; key: string; directory: boolean }[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (entry.name.startsWith(partial) && isObjectKey(entry.name)) {
          items.push({
            order: `${keyPrefix}${entry.name}/`,
            name: entry.name,
            key: `${keyPrefix}${entry.name}/`,
            directory: true,
          });
        }
      } else if (entry.isFile() && entry.name.endsWith(LOCAL_OBJECT_SUFFIX)) {
        const segment = entry.name.slice(0, -LOCAL_OBJECT_SUFFIX.length);
        if (segment.startsWith(partial) && isObjectKey(segment)) {
          items.push({
            order: `${keyPrefix}${segment}`,
            name: entry.name,
            key: `${keyPrefix}${segment}`,
            directory: false,
          });
        }
      }
    }
    items.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    for (const item of items) {
      if (item.directory) {
        yield* this.walk(join(dir, item.name), item.key, '');
      } else {
        const object = await this.openFile(join(dir, item.name), item.key);
        if (object === undefined) continue;
        await object.handle.close().catch(() => undefined);
        yield objectInfo(item.key, object.header, object.lastModified);
      }
    }
  }

  async presignPost(key: string, options: PresignPostOptions): Promise<PresignedPost> {
    assertObjectKey(key);
    const resolved = resolvePresignPostOptions(options);
    const expiresAt = new Date(this.clock().getTime() + resolved.expiresInSeconds * 1000);
    const policy: LocalPostPolicy = {
      key,
      contentType: resolved.contentType,
      minBytes: resolved.minBytes,
      maxBytes: resolved.maxBytes,
      expiresAt,
    };
    const signed = signLocalPostPolicy(policy, this.uploadSecret);
    return {
      url: this.uploadUrl,
      fields: {
        key,
        'Content-Type': resolved.contentType,
        policy: signed.policy,
        signature: signed.signature,
      },
      expiresAt,
    };
  }

  /**
   * Verifies an upload form signed by this store (see `verifyLocalPostPolicy`).
   * @param now the current time; default: the store's clock.
   * @throws UploadPolicyError when the form is not one this store signed, has expired, or its
   *   key or content type differ from the policy.
   */
  verifyPostPolicy(fields: UploadFormFields, now: Date = this.clock()): LocalPostPolicy {
    return verifyLocalPostPolicy(fields, now, this.uploadSecret);
  }

  async check(): Promise<void> {
    const root = await this.root();
    try {
      await access(root, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
    } catch (error) {
      throw new StorageUnavailableError(`Local storage root ${root} is not readable and writable.`, {
        cause: error,
      });
    }
  }
}

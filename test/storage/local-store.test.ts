import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  InvalidObjectKeyError,
  ObjectDamagedError,
  StorageUnavailableError,
} from '../../src/storage/errors.js';
import { LocalObjectStore } from '../../src/storage/local-store.js';
import { BAD_KEYS, defineObjectStoreContract } from './object-store.contract.js';
import { chunked, failingMidway, largePhotograph, readAll, rocket } from './photographs.js';

const SECRET = 'local-store-test-secret-0123456789abcdef';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('LocalObjectStore', () => {
  let workspace: string;
  let root: string;
  let store: LocalObjectStore;

  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'tessera-local-store-'));
    root = join(workspace, 'objects');
    store = new LocalObjectStore({ root, uploadBaseUrl: 'http://localhost:4000', uploadSecret: SECRET });
  });

  afterAll(() => {
    rmSync(workspace, { recursive: true, force: true });
  });

  defineObjectStoreContract(() => store);

  describe('on disk', () => {
    it('keeps bytes and content type in one file per object, and nothing else', async () => {
      const photo = rocket();
      await store.write('layout/a/rocket.jpg', photo, { contentType: 'image/jpeg' });
      expect(filesUnder(join(root, 'layout'))).toEqual(['a/rocket.jpg~obj']);
      const file = readFileSync(join(root, 'layout', 'a', 'rocket.jpg~obj'));
      expect(file.length).toBe(1024 + photo.length);
      expect(JSON.parse(file.subarray(0, 1024).toString('utf8'))).toMatchObject({
        contentType: 'image/jpeg',
        bytes: photo.length,
      });
      expect(file.subarray(1024).equals(photo)).toBe(true);
    });

    it('an object cut short (a crash before a non-durable write reached the disk) is reported damaged, never served short', async () => {
      const photo = rocket();
      await store.write('layout/b/variant.jpg', photo, { contentType: 'image/jpeg', durable: false });
      expect((await store.readBuffer('layout/b/variant.jpg')).equals(photo)).toBe(true);
      const file = join(root, 'layout', 'b', 'variant.jpg~obj');
      for (const cut of [readFileSync(file).subarray(0, 1024 + 100), Buffer.alloc(0)]) {
        writeFileSync(file, cut);
        await expect(store.readBuffer('layout/b/variant.jpg')).rejects.toBeInstanceOf(ObjectDamagedError);
        await expect(store.read('layout/b/variant.jpg').then(readAll)).rejects.toBeInstanceOf(
          ObjectDamagedError,
        );
      }
      await store.write('layout/b/variant.jpg', photo, { contentType: 'image/jpeg', durable: false });
      expect((await store.readBuffer('layout/b/variant.jpg')).equals(photo)).toBe(true);
    });

    it('leaves no temporary file when the body stream fails midway', async () => {
      const photo = await largePhotograph();
      const failure = new Error('socket reset by the uploader');
      await expect(
        store.write('atomic/x/dragonfly.jpg', failingMidway(photo, 2 * 1024 * 1024, failure), {
          contentType: 'image/jpeg',
        }),
      ).rejects.toBe(failure);
      await store.write('atomic/x/kept.jpg', rocket(), { contentType: 'image/jpeg' });
      await expect(
        store.write('atomic/x/kept.jpg', failingMidway(photo, 1024 * 1024, failure), {
          contentType: 'image/jpeg',
        }),
      ).rejects.toBe(failure);
      expect(filesUnder(join(root, 'atomic'))).toEqual(['x/kept.jpg~obj']);
    });

    it('removes directories left empty by deletes, and nothing more', async () => {
      await store.write('prune/a/b/c.jpg', rocket(), { contentType: 'image/jpeg' });
      await store.write('prune/keep.jpg', rocket(), { contentType: 'image/jpeg' });
      await store.delete('prune/a/b/c.jpg');
      expect(existsSync(join(root, 'prune', 'a'))).toBe(false);
      expect(filesUnder(join(root, 'prune'))).toEqual(['keep.jpg~obj']);
      await store.write('prune/a/b/c.jpg', rocket(), { contentType: 'image/jpeg' });
      expect((await store.readBuffer('prune/a/b/c.jpg')).equals(rocket())).toBe(true);
    });

    it.each([true, false])(
      'writes into a directory that another process removed since this store last wrote there (durable: %s)',
      async (durable) => {
        await store.write('gone/a/b/first.jpg', rocket(), { contentType: 'image/jpeg', durable });
        rmSync(join(root, 'gone'), { recursive: true });
        await expect(store.readBuffer('gone/a/b/first.jpg')).rejects.toThrow(/not found|does not exist/i);
        await store.write('gone/a/b/second.jpg', rocket(), { contentType: 'image/jpeg', durable });
        expect((await store.readBuffer('gone/a/b/second.jpg')).equals(rocket())).toBe(true);
        expect(filesUnder(join(root, 'gone'))).toEqual(['a/b/second.jpg~obj']);
        rmSync(join(root, 'gone'), { recursive: true });
      },
    );

    it('refuses a write that need not be durable whose declared size is not its size, writing nothing', async () => {
      await expect(
        store.write('short/x.jpg', rocket(), { contentType: 'image/jpeg', bytes: 10, durable: false }),
      ).rejects.toThrow(/size|bytes/i);
      expect(existsSync(join(root, 'short'))).toBe(false);
    });

    it('lists in ascending key order, as S3 does', async () => {
      for (const key of [
        'order/p/b/d.jpg',
        'order/p-x.jpg',
        'order/p/b.jpg',
        'order/p/a',
        'order/p/b/c.jpg',
        'order/p.jpg',
        'order/p/a-b',
      ]) {
        await store.write(key, rocket(), { contentType: 'image/jpeg' });
      }
      const keys: string[] = [];
      for await (const info of store.list('order/')) keys.push(info.key);
      expect(keys).toEqual([
        'order/p-x.jpg',
        'order/p.jpg',
        'order/p/a',
        'order/p/a-b',
        'order/p/b.jpg',
        'order/p/b/c.jpg',
        'order/p/b/d.jpg',
      ]);
    });

    it('ignores foreign files and leftovers of crashed writes in listings', async () => {
      await store.write('foreign/ok.jpg', rocket(), { contentType: 'image/jpeg' });
      writeFileSync(join(root, 'foreign', '.~tmp-crashed'), 'partial');
      writeFileSync(join(root, 'foreign', 'notes.txt'), 'hello');
      const keys: string[] = [];
      for await (const info of store.list('foreign/')) keys.push(info.key);
      expect(keys).toEqual(['foreign/ok.jpg']);
    });
  });

  describe('path escape', () => {
    let outside: string;

    beforeAll(() => {
      outside = join(workspace, 'outside');
      mkdirSync(outside, { recursive: true });
      writeFileSync(join(outside, 'secret.txt'), 'not for you');
    });

    it.each(BAD_KEYS.map(([key, why]) => ({ key, why })))(
      'never touches anything outside the root for a key with $why',
      async ({ key }) => {
        await expect(store.write(key, rocket(), { contentType: 'image/jpeg' })).rejects.toBeInstanceOf(
          InvalidObjectKeyError,
        );
        expect(filesUnder(workspace).filter((f) => !f.startsWith('objects/'))).toEqual([
          'outside/secret.txt',
        ]);
      },
    );

    it('refuses keys whose directory is a symbolic link leading out of the root', async () => {
      symlinkSync(outside, join(root, 'escape'), 'dir');
      writeFileSync(join(outside, 'planted.jpg~obj'), Buffer.alloc(1100));
      await expect(
        store.write('escape/x.jpg', rocket(), { contentType: 'image/jpeg' }),
      ).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(
        store.write('escape/deeper/x.jpg', rocket(), { contentType: 'image/jpeg' }),
      ).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.stat('escape/planted.jpg')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.read('escape/planted.jpg')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.delete('escape/planted.jpg')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      const listed: string[] = [];
      for await (const info of store.list('')) listed.push(info.key);
      expect(listed.filter((k) => k.startsWith('escape/'))).toEqual([]);
      await expect(readAll(await store.read('layout/a/rocket.jpg'))).resolves.toHaveLength(rocket().length);
      expect(readdirSync(outside).sort()).toEqual(['planted.jpg~obj', 'secret.txt']);
    });

    it('refuses an object file that is a symbolic link', async () => {
      mkdirSync(join(root, 'linked'), { recursive: true });
      symlinkSync(join(outside, 'secret.txt'), join(root, 'linked', 'secret~obj'));
      await expect(store.stat('linked/secret')).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.readBuffer('linked/secret')).rejects.toBeInstanceOf(InvalidObjectKeyError);
    });

    it('follows symbolic links that stay inside the root', async () => {
      await store.write('real/inside.jpg', rocket(), { contentType: 'image/jpeg' });
      symlinkSync(join(root, 'real'), join(root, 'alias'), 'dir');
      expect((await store.readBuffer('alias/inside.jpg')).equals(rocket())).toBe(true);
    });
  });

  describe('readiness', () => {
    it('reports a root it cannot create as unavailable', async () => {
      const file = join(workspace, 'a-file');
      writeFileSync(file, 'x');
      const broken = new LocalObjectStore({
        root: join(file, 'objects'),
        uploadBaseUrl: 'http://localhost:4000',
        uploadSecret: SECRET,
      });
      await expect(broken.check()).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(
        broken.write('a.jpg', chunked(rocket()), { contentType: 'image/jpeg' }),
      ).rejects.toBeInstanceOf(StorageUnavailableError);
    });

    it('refuses a short upload secret', () => {
      expect(
        () => new LocalObjectStore({ root, uploadBaseUrl: 'http://localhost:4000', uploadSecret: 'short' }),
      ).toThrow(RangeError);
    });
  });
});

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { S3ObjectStore, S3_MIN_PART_BYTES, type S3ObjectStoreOptions } from '../../src/storage/s3-store.js';
import { describeWith, testServices } from '../support/services.js';
import { defineObjectStoreContract } from './object-store.contract.js';
import { hubble, rocket } from './photographs.js';

const bucketName = (): string => `tessera-test-${randomUUID().slice(0, 12)}`;

const optionsFor = (bucket: string, extra: Partial<S3ObjectStoreOptions> = {}): S3ObjectStoreOptions => ({
  bucket,
  region: testServices.s3.region,
  endpoint: testServices.s3.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: testServices.s3.accessKeyId, secretAccessKey: testServices.s3.secretAccessKey },
  ...extra,
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

type PolicyDocument = { expiration: string; conditions: unknown[] };

describeWith(['s3'], 'S3ObjectStore', () => {
  let store: S3ObjectStore;

  beforeAll(async () => {
    // Smallest part size, so the multi-MB photograph of the contract goes through a multipart upload.
    store = new S3ObjectStore(optionsFor(bucketName(), { partSizeBytes: S3_MIN_PART_BYTES }));
    await store.ensureBucket();
  });

  afterAll(() => {
    store.close();
  });

  // The S3 API server the test setup starts (s3rver) writes objects in place, so concurrent PUTs of
  // one key can interleave there; S3, MinIO and R2 replace objects atomically (S3_ENDPOINT to run it).
  const onS3rver = process.env.TESSERA_TEST_S3_PID !== undefined;
  defineObjectStoreContract(
    () => store,
    onS3rver ? { concurrentOverwrites: 's3rver writes objects in place' } : {},
  );

  describe('presigned POST', () => {
    it('pins key, type, size range and expiry in the policy, and a browser form POST with its fields stores the photograph', async () => {
      const key = `uploads/${randomUUID()}/rocket.jpg`;
      const photo = rocket();
      const post = await store.presignPost(key, {
        contentType: 'image/jpeg',
        minBytes: 1024,
        maxBytes: 2_000_000,
        expiresInSeconds: 600,
      });

      expect(post.url).toBe(`${testServices.s3.endpoint}/${store.bucket}`);
      expect(post.fields).toMatchObject({
        key,
        'Content-Type': 'image/jpeg',
        bucket: store.bucket,
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      });
      expect(post.fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);

      const policy = JSON.parse(
        Buffer.from(post.fields.Policy ?? '', 'base64').toString('utf8'),
      ) as PolicyDocument;
      expect(new Date(policy.expiration).getTime()).toBe(post.expiresAt.getTime());
      expect(post.expiresAt.getTime() - Date.now()).toBeGreaterThan(590_000);
      expect(policy.conditions).toEqual(
        expect.arrayContaining([
          { key },
          { bucket: store.bucket },
          ['eq', '$Content-Type', 'image/jpeg'],
          { 'Content-Type': 'image/jpeg' },
          ['content-length-range', 1024, 2_000_000],
        ]),
      );
      // Nothing in the policy lets the form write another key.
      expect(policy.conditions.filter((c) => Array.isArray(c) && c[0] === 'starts-with')).toEqual([]);

      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'rocket.jpg');
      const response = await fetch(post.url, { method: 'POST', body: form });
      expect(response.status).toBe(204);

      expect((await store.readBuffer(key)).equals(photo)).toBe(true);
      expect(await store.stat(key)).toMatchObject({ bytes: photo.length, contentType: 'image/jpeg' });
    });

    it('points browsers at the public endpoint when one is configured', async () => {
      const publicStore = new S3ObjectStore(
        optionsFor(store.bucket, { publicEndpoint: 'https://media-uploads.example.com' }),
      );
      try {
        const post = await publicStore.presignPost('uploads/public.jpg', {
          contentType: 'image/jpeg',
          maxBytes: 1000,
          expiresInSeconds: 60,
        });
        expect(post.url).toBe(`https://media-uploads.example.com/${store.bucket}`);
        // The server's own requests still go to the private endpoint.
        await publicStore.write('uploads/public.jpg', hubble(), { contentType: 'image/jpeg' });
        expect((await store.readBuffer('uploads/public.jpg')).equals(hubble())).toBe(true);
      } finally {
        publicStore.close();
      }
    });
  });

  describe('setup and readiness', () => {
    it('creates a missing bucket once and accepts an existing one', async () => {
      const fresh = new S3ObjectStore(optionsFor(bucketName()));
      try {
        await expect(fresh.check()).rejects.toBeInstanceOf(StorageUnavailableError);
        await fresh.ensureBucket();
        await fresh.ensureBucket();
        await expect(fresh.check()).resolves.toBeUndefined();
      } finally {
        fresh.close();
      }
    });

    it('reports an unreachable endpoint as StorageUnavailableError on every operation', async () => {
      const port = await closedPort();
      const down = new S3ObjectStore(
        optionsFor(store.bucket, { endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }),
      );
      try {
        await expect(down.check()).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(down.stat('a.jpg')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(down.readBuffer('a.jpg')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(down.write('a.jpg', rocket(), { contentType: 'image/jpeg' })).rejects.toBeInstanceOf(
          StorageUnavailableError,
        );
      } finally {
        down.close();
      }
    });

    it('reports a missing bucket as StorageUnavailableError, not as a missing object', async () => {
      const missing = new S3ObjectStore(optionsFor(bucketName()));
      try {
        await expect(missing.readBuffer('a.jpg')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(missing.write('a.jpg', rocket(), { contentType: 'image/jpeg' })).rejects.toBeInstanceOf(
          StorageUnavailableError,
        );
      } finally {
        missing.close();
      }
    });

    it('refuses a part size S3 would refuse', () => {
      expect(() => new S3ObjectStore(optionsFor('b', { partSizeBytes: 1024 * 1024 }))).toThrow(RangeError);
    });
  });
});

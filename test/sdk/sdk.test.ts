/**
 * The typed client SDK: its generated files match what `npm run codegen` makes from the checked-in
 * schema and operations, it type-checks on its own with only the DOM's globals (as a browser
 * bundle would), and every operation it documents works against a live Tessera.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import {
  AssetDocument,
  AssetImageDocument,
  AssetsDocument,
  AssetTileDocument,
  createTesseraClient,
  ImportAssetDocument,
  PresetsDocument,
  TesseraError,
  TransformAssetDocument,
  ViewerDocument,
  type TesseraClient,
  type UploadProgress,
} from '../../sdk/index.js';
import { fixture, repoRoot, type FixtureName } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { loopbackServer, type LoopbackServer } from '../ingestion/ingest-client.js';

const run = promisify(execFile);
const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif' };
const fileOf = (name: FixtureName): File =>
  new File([new Uint8Array(fixture(name))], name, {
    type: TYPES[name.split('.').pop()!] ?? 'application/octet-stream',
  });

/** Fetches an image URL and decodes what came back. */
async function fetchImage(
  url: string,
): Promise<{ status: number; width?: number; height?: number; format?: string }> {
  const response = await fetch(url);
  if (!response.ok) return { status: response.status };
  const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
  return { status: response.status, width: meta.width, height: meta.height, format: meta.format };
}

describe('SDK build', () => {
  it('sdk/generated is what `npm run codegen` makes from the schema and sdk/operations', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tessera-codegen-'));
    try {
      symlinkSync(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
      for (const path of ['codegen.yml', '.prettierrc.json', 'schema', 'sdk/operations']) {
        cpSync(join(repoRoot, path), join(work, path), { recursive: true });
      }
      await run(
        process.execPath,
        [join(repoRoot, 'node_modules/@graphql-codegen/cli/esm/bin.js'), '--config', 'codegen.yml'],
        {
          cwd: work,
          env: {
            ...process.env,
            PATH: `${join(repoRoot, 'node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`,
          },
        },
      );
      const made = readdirSync(join(work, 'sdk/generated')).sort();
      const checkedIn = readdirSync(join(repoRoot, 'sdk/generated')).sort();
      expect(checkedIn).toEqual(made);
      for (const name of made) {
        const fresh = readFileSync(join(work, 'sdk/generated', name), 'utf8');
        const stored = readFileSync(join(repoRoot, 'sdk/generated', name), 'utf8');
        // A failure here means: run `npm run codegen` and commit sdk/generated.
        expect({ name, stale: stored !== fresh }).toEqual({ name, stale: false });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it('the SDK type-checks on its own, with the DOM and without Node types', async () => {
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    for (const project of ['sdk/tsconfig.json']) {
      const result = await run(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: repoRoot }).catch(
        (error: { stdout?: string; code?: number }) => ({
          stdout: error.stdout ?? String(error),
          code: error.code,
        }),
      );
      expect({ project, output: result.stdout.trim() }).toEqual({ project, output: '' });
    }
  }, 120_000);
});

describe('SDK against a live Tessera', () => {
  let t: TestTessera;
  let tessera: TesseraClient;
  let images: LoopbackServer;
  let uploadedId = '';
  let directId = '';

  beforeAll(async () => {
    images = await loopbackServer((request, response) => {
      if (request.url === '/photos/coffee.png') {
        response.writeHead(200, { 'content-type': 'image/png' }).end(fixture('coffee.png'));
      } else response.writeHead(404).end();
    });
    t = await startTestTessera({ env: { IMPORT_ALLOW_NETWORKS: '127.0.0.1/32' } });
    tessera = createTesseraClient({ url: `${t.baseUrl}/graphql`, apiKey: t.boot.apiKey });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await images?.close();
  });

  it('viewer and spaces: the bootstrap key sees its organization and space', async () => {
    const data = await tessera.request(ViewerDocument);
    expect(data.viewer.kind).toBe('API_KEY');
    expect(data.viewer.organization.id).toBe(t.boot.organizationId);
    expect(data.spaces.map((s) => s.id)).toEqual([t.boot.spaceId]);
  });

  it('uploadAsset sends a GraphQL multipart request and answers the asset', async () => {
    const photo = fixture('rocket.jpg');
    const asset = await tessera.uploadAsset(fileOf('rocket.jpg'), {
      spaceId: t.boot.spaceId,
      tags: ['launch'],
      folder: 'sdk',
    });
    expect(asset).toMatchObject({
      filename: 'rocket.jpg',
      format: 'jpeg',
      width: 640,
      height: 427,
      bytes: photo.length,
      sha256: sha256(photo),
      tags: ['launch'],
      folder: 'sdk',
    });
    expect(asset.placeholder.dataUri).toMatch(/^data:image\/webp;base64,/);
    uploadedId = asset.id;
  });

  it('directUpload: createUpload, the form POST to storage with progress, completeUpload', async () => {
    const photo = fixture('chelsea.png');
    const seen: UploadProgress[] = [];
    const asset = await tessera.directUpload(
      fileOf('chelsea.png'),
      { spaceId: t.boot.spaceId, tags: ['cat'] },
      { onProgress: (p) => seen.push(p) },
    );
    expect(asset).toMatchObject({ filename: 'chelsea.png', format: 'png', width: 451, height: 300 });
    expect(asset.sha256).toBe(sha256(photo));
    expect(seen[0]).toEqual({ loaded: 0, total: photo.length, fraction: 0 });
    expect(seen.at(-1)).toEqual({ loaded: photo.length, total: photo.length, fraction: 1 });
    // The bytes went to storage, not through GraphQL: the asset's original is what was sent.
    const original = await fetch(
      (await tessera.request(AssetImageDocument, { id: asset.id })).asset!.image.url,
    );
    expect(sha256(Buffer.from(await original.arrayBuffer()))).toBe(sha256(photo));
    directId = asset.id;
  });

  it('importAsset fetches an image from a URL', async () => {
    const { importAsset } = await tessera.request(ImportAssetDocument, {
      input: { spaceId: t.boot.spaceId, url: `${images.origin}/photos/coffee.png` },
    });
    expect(importAsset).toMatchObject({
      format: 'png',
      width: 600,
      height: 400,
      sha256: sha256(fixture('coffee.png')),
    });
  });

  it('assets lists the space newest first, each with a tile image, srcset and placeholder that load', async () => {
    const { assets } = await tessera.request(AssetsDocument, {
      spaceId: t.boot.spaceId,
      tile: { width: 200, height: 200, fit: 'COVER', format: 'WEBP' },
    });
    expect(assets.edges.map((e) => e.node.filename)).toEqual(['coffee.png', 'chelsea.png', 'rocket.jpg']);
    for (const { node } of assets.edges) {
      expect(node.image).toMatchObject({ width: 200, height: 200 });
      expect(node.image.url).toContain('/w_200-h_200-');
      expect(node.image.srcSet).toMatch(/ \d+w(, |$)/);
      expect(node.placeholder.dataUri).toMatch(/^data:image\/webp;base64,/);
      expect(await fetchImage(node.image.url)).toEqual({
        status: 200,
        width: 200,
        height: 200,
        format: 'webp',
      });
    }
    const page = await tessera.request(AssetsDocument, { spaceId: t.boot.spaceId, first: 2 });
    expect(page.assets.pageInfo.hasNextPage).toBe(true);
    const rest = await tessera.request(AssetsDocument, {
      spaceId: t.boot.spaceId,
      first: 2,
      after: page.assets.pageInfo.endCursor,
    });
    expect(rest.assets.edges.map((e) => e.node.id)).toEqual([uploadedId]);
  });

  it('asset gives metadata, EXIF, processing and variants; assetTile the tile of one asset', async () => {
    const { asset } = await tessera.request(AssetDocument, { id: uploadedId, preview: { width: 320 } });
    expect(asset).toMatchObject({
      id: uploadedId,
      version: 1,
      mimeType: 'image/jpeg',
      width: 640,
      height: 427,
      space: { id: t.boot.spaceId },
      preview: { width: 320, height: 214 },
    });
    expect(asset!.processing.map((p) => p.preset.slug).sort()).toEqual(['large', 'medium', 'thumbnail']);
    const tile = await tessera.request(AssetTileDocument, { id: directId, tile: { width: 100 } });
    expect(tile.asset).toMatchObject({ id: directId, image: { width: 100, height: 67 } });
    const missing = await tessera
      .request(AssetDocument, { id: 'ast_0000000000000000000000' })
      .catch((e: unknown) => e);
    expect(missing instanceof TesseraError ? missing.code : missing).toBe('NOT_FOUND');
  });

  it('transformAsset renders a variant whose URL serves that size; it then shows among the variants', async () => {
    const { transformAsset } = await tessera.request(TransformAssetDocument, {
      assetId: uploadedId,
      transform: { width: 240, format: 'PNG', grayscale: true },
    });
    expect(transformAsset).toMatchObject({ width: 240, height: 160, format: 'png' });
    expect(transformAsset.canonical).toContain('w_240');
    expect(await fetchImage(transformAsset.url)).toEqual({
      status: 200,
      width: 240,
      height: 160,
      format: 'png',
    });
    const { asset } = await tessera.request(AssetDocument, { id: uploadedId });
    expect(asset!.variants.edges.map((e) => e.node.id)).toContain(transformAsset.id);
  });

  it('presets lists the space defaults', async () => {
    const { presets } = await tessera.request(PresetsDocument, { spaceId: t.boot.spaceId });
    expect(presets.map((p) => p.slug).sort()).toEqual(['large', 'medium', 'thumbnail']);
    expect(presets.find((p) => p.slug === 'thumbnail')!.transform).toMatchObject({ width: 300, height: 300 });
  });

  it('getToken is asked for the bearer token on each request; a refused key is a TesseraError', async () => {
    let asked = 0;
    const viaToken = createTesseraClient({
      url: `${t.baseUrl}/graphql`,
      getToken: async () => {
        asked += 1;
        return t.boot.apiKey;
      },
    });
    await viaToken.request(ViewerDocument);
    await viaToken.request(ViewerDocument);
    expect(asked).toBe(2);

    const wrong = createTesseraClient({ url: `${t.baseUrl}/graphql`, apiKey: 'tsk_0000000000000000_nope' });
    const error = await wrong.request(ViewerDocument).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraError);
    expect((error as TesseraError).code).toBe('UNAUTHENTICATED');
  });

  it('a refused direct upload rejects with the code of the step that refused it', async () => {
    const notAnImage = await tessera
      .directUpload(new File(['hello, not an image'], 'notes.txt', { type: 'text/plain' }), {
        spaceId: t.boot.spaceId,
      })
      .catch((e: unknown) => e);
    expect(notAnImage).toBeInstanceOf(TesseraError);
    expect((notAnImage as TesseraError).code).toBe('UNSUPPORTED_MEDIA_TYPE');

    // A form whose signature was tampered with on the way (through the client's own fetch):
    // the signed form endpoint refuses it, and its problem+json becomes the error.
    const tampering: typeof fetch = async (input, init) => {
      if (!(init?.body instanceof FormData)) return fetch(input, init);
      const form = new FormData();
      for (const [name, value] of init.body.entries()) {
        // its first character changed (to another one: a signature may start with x)
        const text = String(value);
        form.append(
          name,
          name === 'signature' ? `${text.startsWith('x') ? 'y' : 'x'}${text.slice(1)}` : value,
        );
      }
      return fetch(input, { ...init, body: form });
    };
    const tampered = createTesseraClient({
      url: `${t.baseUrl}/graphql`,
      apiKey: t.boot.apiKey,
      fetch: tampering,
    });
    const refused = await tampered
      .directUpload(fileOf('rocket.jpg'), { spaceId: t.boot.spaceId })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TesseraError);
    expect({ code: (refused as TesseraError).code, status: (refused as TesseraError).status }).toEqual({
      code: 'FORBIDDEN',
      status: 403,
    });
  });

  it('an aborted direct upload rejects with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await tessera
      .directUpload(fileOf('rocket.jpg'), { spaceId: t.boot.spaceId }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect((error as TesseraError).code).toBe('ABORTED');
  });
});

describeWith(['s3'], 'SDK direct upload to an S3 API server', () => {
  let t: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera({ storage: 's3', env: { JOBS_IN_PROCESS: 'false' } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('posts the presigned form to S3 and completes the upload', async () => {
    const tessera = createTesseraClient({ url: `${t.baseUrl}/graphql`, apiKey: t.boot.apiKey });
    const photo = fixture('hubble_deep_field.jpg');
    const fractions: number[] = [];
    const asset = await tessera.directUpload(
      fileOf('hubble_deep_field.jpg'),
      { spaceId: t.boot.spaceId },
      { onProgress: (p) => fractions.push(p.fraction) },
    );
    expect(asset).toMatchObject({ format: 'jpeg', width: 1000, height: 872, sha256: sha256(photo) });
    expect(fractions).toEqual([0, 1]);
    const { asset: detail } = await tessera.request(AssetDocument, { id: asset.id });
    expect(detail?.exif).toMatchObject({ Image: { Software: 'Adobe Photoshop CS5 Macintosh' } });
  });
});

/**
 * `assets(spaceId, first, after, filter, orderBy)`: a Relay connection over 25 distinct images
 * (one photograph resized to 25 widths), paged with stable cursors in every order, and filtered.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { fixture } from '../support/fixtures.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import { createSpace, JOBS_OFF, uploadAsset } from './ingest-client.js';

interface Row {
  id: string;
  filename: string;
  format: string;
  bytes: number;
  tags: string[];
  folder: string;
  createdAt: string;
  updatedAt: string;
}

interface Page {
  assets: {
    edges: { cursor: string; node: Row }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

type Field = 'CREATED_AT' | 'UPDATED_AT' | 'FILENAME' | 'BYTES';
type Direction = 'ASC' | 'DESC';

const QUERY = `query($spaceId: ID!, $first: Int, $after: String, $filter: AssetFilter, $orderBy: AssetOrder) {
  assets(spaceId: $spaceId, first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id filename format bytes tags folder createdAt updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

const FOLDERS = ['', 'trips', 'trips/2024', 'trips/2024/summer', 'tripsarchive'];
const FORMATS = ['png', 'webp', 'jpeg', 'jpeg', 'jpeg'] as const;
const COUNT = 25;

const filenameOf = (i: number): string => {
  if (i >= 3 && i <= 5) return 'dup.jpg';
  if (i === 6) return '100%_real.jpg';
  return `photo-${String(i).padStart(2, '0')}.${FORMATS[i % 5] === 'jpeg' ? 'jpg' : FORMATS[i % 5]}`;
};

/** Byte order, as PostgreSQL's C collation and the filenames above agree on. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const keyOf: Record<Field, (row: Row) => string | number> = {
  CREATED_AT: (row) => Date.parse(row.createdAt),
  UPDATED_AT: (row) => Date.parse(row.updatedAt),
  FILENAME: (row) => row.filename,
  BYTES: (row) => row.bytes,
};

function expectedOrder(rows: readonly Row[], field: Field, direction: Direction): string[] {
  const sign = direction === 'ASC' ? 1 : -1;
  return [...rows]
    .sort((a, b) => {
      const ka = keyOf[field](a);
      const kb = keyOf[field](b);
      const byKey =
        typeof ka === 'number' && typeof kb === 'number' ? ka - kb : compareText(String(ka), String(kb));
      return sign * (byKey !== 0 ? byKey : compareText(a.id, b.id));
    })
    .map((row) => row.id);
}

describe('ingestion: listing assets', () => {
  let t: TestTessera;
  let spaceId: string;
  let rows: Row[];

  const list = (variables: Record<string, unknown>): Promise<GraphQLResponse<Page>> =>
    t.gql<Page>(QUERY, { spaceId, ...variables });

  /** Walks every page; checks page sizes and page info on the way. */
  async function walk(variables: Record<string, unknown>, first: number): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages += 1) {
      const res: GraphQLResponse<Page> = await list({ ...variables, first, after });
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      const { edges, pageInfo } = res.data.assets;
      ids.push(...edges.map((e) => e.node.id));
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      expect(pageInfo.startCursor).toBe(edges[0]?.cursor ?? null);
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
      if (!pageInfo.hasNextPage) return ids;
      expect(edges).toHaveLength(first);
      after = pageInfo.endCursor;
    }
    throw new Error('too many pages');
  }

  beforeAll(async () => {
    t = await startTestTessera({ env: JOBS_OFF });
    spaceId = await createSpace(t, 'Listing');
    const photo = sharp(fixture('rocket.jpg'));
    rows = [];
    for (let i = 0; i < COUNT; i += 1) {
      const resized = photo.clone().resize({ width: 60 + i * 4 });
      const format = FORMATS[i % 5]!;
      const bytes = await (
        format === 'png' ? resized.png() : format === 'webp' ? resized.webp() : resized.jpeg()
      ).toBuffer();
      const tags = [...(i % 2 === 0 ? ['even'] : []), ...(i % 3 === 0 ? ['three'] : [])];
      const res = await uploadAsset(
        t,
        { bytes, filename: filenameOf(i), type: `image/${format}` },
        { spaceId, tags, folder: FOLDERS[Math.floor(i / 5)]! },
      );
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      rows.push(res.data.uploadAsset);
    }
    // Touch a few so that updatedAt orders differently from createdAt.
    for (const i of [2, 17, 9]) {
      const res = await t.gql<{ updateAsset: Row }>(
        `mutation($id: ID!) { updateAsset(id: $id, input: { access: PRIVATE }) { id filename format bytes tags folder createdAt updatedAt } }`,
        { id: rows[i]!.id },
      );
      rows[i] = res.data!.updateAsset;
    }
  }, 120_000);
  afterAll(async () => t?.close());

  it('holds 25 distinct assets, newest first by default', async () => {
    expect(new Set(rows.map((r) => r.id)).size).toBe(COUNT);
    const res = await list({ first: 100 });
    expect(res.data?.assets.edges.map((e) => e.node.id)).toEqual(expectedOrder(rows, 'CREATED_AT', 'DESC'));
    expect(res.data?.assets.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it.each([
    ['CREATED_AT', 'ASC'],
    ['CREATED_AT', 'DESC'],
    ['UPDATED_AT', 'ASC'],
    ['UPDATED_AT', 'DESC'],
    ['FILENAME', 'ASC'],
    ['FILENAME', 'DESC'],
    ['BYTES', 'ASC'],
    ['BYTES', 'DESC'],
  ] as [Field, Direction][])(
    'pages through all of them ordered by %s %s, 7 at a time, each exactly once',
    async (field, direction) => {
      const ids = await walk({ orderBy: { field, direction } }, 7);
      expect(ids).toEqual(expectedOrder(rows, field, direction));
    },
  );

  it('keeps cursors stable: the same cursor gives the same page, and a new upload does not shift the pages after it', async () => {
    const first = await list({ first: 5, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
    const cursor = first.data!.assets.pageInfo.endCursor!;
    const a = await list({ first: 5, after: cursor, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
    const newcomer = await uploadAsset(
      t,
      {
        bytes: await sharp(fixture('rocket.jpg')).resize({ width: 300 }).jpeg().toBuffer(),
        filename: 'newcomer.jpg',
        type: 'image/jpeg',
      },
      { spaceId },
    );
    const b = await list({ first: 5, after: cursor, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
    expect(b.data?.assets.edges.map((e) => e.node.id)).toEqual(a.data?.assets.edges.map((e) => e.node.id));
    expect(a.data?.assets.edges.map((e) => e.node.id)).toEqual(
      expectedOrder(rows, 'CREATED_AT', 'ASC').slice(5, 10),
    );
    // Newest first, the newcomer leads; the page after the old first cursor is unchanged.
    const newest = await list({ first: 1 });
    expect(newest.data?.assets.edges[0]?.node.id).toBe(newcomer.data!.uploadAsset.id);
    await t.gql(`mutation($id: ID!) { deleteAsset(id: $id) }`, { id: newcomer.data!.uploadAsset.id });
  });

  const idsWhere = (predicate: (row: Row, index: number) => boolean) =>
    expectedOrder(rows.filter(predicate), 'FILENAME', 'ASC');
  const filtered = async (filter: Record<string, unknown>) =>
    walk({ filter, orderBy: { field: 'FILENAME', direction: 'ASC' } }, 10);

  it('filters by tags: every given tag must be there, compared as stored (lowercase)', async () => {
    expect(await filtered({ tags: ['even'] })).toEqual(idsWhere((_r, i) => i % 2 === 0));
    expect(await filtered({ tags: ['EVEN', ' three '] })).toEqual(idsWhere((_r, i) => i % 6 === 0));
    expect(await filtered({ tags: ['nobody'] })).toEqual([]);
  });

  it('filters by folder, exactly or with its subfolders (and not a folder that merely starts the same)', async () => {
    expect(await filtered({ folder: 'trips' })).toEqual(idsWhere((r) => r.folder === 'trips'));
    expect(await filtered({ folder: '/trips/', includeSubfolders: true })).toEqual(
      idsWhere((r) => r.folder === 'trips' || r.folder.startsWith('trips/')),
    );
    expect(await filtered({ folder: 'trips/2024', includeSubfolders: true })).toEqual(
      idsWhere((r) => r.folder.startsWith('trips/2024')),
    );
    expect(await filtered({ folder: '' })).toEqual(idsWhere((r) => r.folder === ''));
    expect(await filtered({ folder: '', includeSubfolders: true })).toEqual(idsWhere(() => true));
    expect((await filtered({ folder: 'trips', includeSubfolders: true })).length).toBe(15);
  });

  it('filters by format', async () => {
    expect(await filtered({ formats: ['png'] })).toEqual(idsWhere((r) => r.format === 'png'));
    expect(await filtered({ formats: ['png', 'webp'] })).toEqual(
      idsWhere((r) => r.format === 'png' || r.format === 'webp'),
    );
    expect((await filtered({ formats: ['webp'] })).length).toBe(5);
  });

  it('filters by creation time, bounds excluded', async () => {
    const pivot = rows[10]!.createdAt;
    const after = await filtered({ createdAfter: pivot });
    const before = await filtered({ createdBefore: pivot });
    expect(after).toEqual(idsWhere((r) => Date.parse(r.createdAt) > Date.parse(pivot)));
    expect(before).toEqual(idsWhere((r) => Date.parse(r.createdAt) < Date.parse(pivot)));
    expect(after.length + before.length).toBe(COUNT - 1);
    expect(await filtered({ createdAfter: rows[5]!.createdAt, createdBefore: rows[8]!.createdAt })).toEqual(
      idsWhere((_r, i) => i === 6 || i === 7),
    );
  });

  it('searches filenames, case-insensitively, with % and _ taken literally', async () => {
    expect(await filtered({ search: 'DUP' })).toEqual(idsWhere((r) => r.filename === 'dup.jpg'));
    expect(await filtered({ search: 'photo-1' })).toEqual(idsWhere((r) => r.filename.startsWith('photo-1')));
    expect(await filtered({ search: '%' })).toEqual([rows[6]!.id]);
    expect(await filtered({ search: '_' })).toEqual([rows[6]!.id]);
    expect(await filtered({ search: 'dup', tags: ['even'] })).toEqual(
      idsWhere((r, i) => r.filename === 'dup.jpg' && i % 2 === 0),
    );
  });

  const byNameCursor = async (): Promise<string> => {
    const byName = await list({ first: 3, orderBy: { field: 'FILENAME', direction: 'ASC' } });
    return byName.data!.assets.pageInfo.endCursor!;
  };

  it('refuses a cursor made for another field with BAD_USER_INPUT, as any cursor it cannot use', async () => {
    const cursor = await byNameCursor();
    for (const orderBy of [
      { field: 'BYTES', direction: 'ASC' },
      { field: 'CREATED_AT', direction: 'DESC' },
    ]) {
      const res = await list({ first: 3, after: cursor, orderBy });
      expect({ orderBy, codes: codes(res) }).toEqual({ orderBy, codes: ['BAD_USER_INPUT'] });
    }
  });

  it('refuses a cursor made for the other direction', async () => {
    const res = await list({
      first: 3,
      after: await byNameCursor(),
      orderBy: { field: 'FILENAME', direction: 'DESC' },
    });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a cursor it did not make', async () => {
    const forged = [
      'garbage',
      ['filename'],
      ['createdAt', 'yesterday', 'x'],
      ['createdAt', '2020-01-01T00:00:00.000Z', 'not-a-row-id'],
      ['createdAt', 12, '0190f3a1-b2c3-7d4e-8f90-a1b2c3d4e5f6'],
    ].map((parts) =>
      typeof parts === 'string' ? parts : Buffer.from(JSON.stringify(parts)).toString('base64url'),
    );
    for (const after of forged) {
      const res = await list({ first: 3, after, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
      expect({ after, codes: codes(res) }).toEqual({ after, codes: ['BAD_USER_INPUT'] });
    }
    const bytes = Buffer.from(
      JSON.stringify(['bytes', 'many', '0190f3a1-b2c3-7d4e-8f90-a1b2c3d4e5f6']),
    ).toString('base64url');
    expect(
      codes(await list({ first: 3, after: bytes, orderBy: { field: 'BYTES', direction: 'ASC' } })),
    ).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses page sizes outside 1..100', async () => {
    for (const first of [0, -1, 101]) expect(codes(await list({ first }))).toEqual(['BAD_USER_INPUT']);
  });
});

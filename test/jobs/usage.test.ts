/**
 * Usage metering as a space's owner reads it from `usage(spaceId, from, to)`: exactly the image
 * requests made (304s included, redirects not), the bytes of the bodies served, the renders (eager
 * and on demand) and their time, the uploads, and the bytes stored in the bucket — counted in
 * memory, with no registry statement per image request.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeWith } from '../support/services.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { createSpace, rowId, settle } from '../ingestion/ingest-client.js';
import { dataOf, fetchImage, upload, urlOf, type Fetched } from '../delivery/delivery-client.js';
import { bucketObjects } from './jobs-support.js';

interface UsageDayView {
  date: string;
  requests: number;
  bytesServed: number;
  renders: number;
  renderMs: number;
  uploads: number;
  storedBytes: number;
}

describeWith(['s3'], 'jobs: usage metering', () => {
  let t: TestTessera;

  beforeAll(async () => {
    // Nothing is flushed on a timer during the test: only reading usage writes it.
    t = await startTestTessera({ storage: 's3', env: { USAGE_FLUSH_SECONDS: '3600' } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  }, 30_000);

  const usageOf = async (spaceId: string): Promise<UsageDayView[]> => {
    const day = 86_400_000;
    const res = await t.gql<{ usage: UsageDayView[] }>(
      'query($s: ID!, $from: DateTimeISO!, $to: DateTimeISO!) { usage(spaceId: $s, from: $from, to: $to) { date requests bytesServed renders renderMs uploads storedBytes } }',
      {
        s: spaceId,
        from: new Date(Date.now() - day).toISOString(),
        to: new Date(Date.now() + day).toISOString(),
      },
    );
    return dataOf(res).usage;
  };

  /** Sums over the days (a run across midnight UTC splits the counts); stored bytes of the last day. */
  const total = (days: UsageDayView[]) => ({
    requests: days.reduce((n, d) => n + d.requests, 0),
    bytesServed: days.reduce((n, d) => n + d.bytesServed, 0),
    renders: days.reduce((n, d) => n + d.renders, 0),
    renderMs: days.reduce((n, d) => n + d.renderMs, 0),
    uploads: days.reduce((n, d) => n + d.uploads, 0),
    storedBytes: days.at(-1)?.storedBytes ?? 0,
  });

  it('counts exactly the requests, bytes served, renders, uploads and stored bytes; warm requests touch no registry', async () => {
    const spaceId = await createSpace(t, 'Metered');
    const rocket = await upload(t, 'rocket.jpg', { spaceId });
    const chelsea = await upload(t, 'chelsea.png', { spaceId });
    // The same bytes again are the same asset, not another upload.
    expect((await upload(t, 'rocket.jpg', { spaceId })).id).toBe(rocket.id);
    await settle(t);
    const eagerRenders = 6;

    const urls = [
      await urlOf(t, rocket.id, { transform: { width: 200, format: 'WEBP' } }),
      await urlOf(t, rocket.id, { transform: { width: 320, format: 'JPG' } }),
      await urlOf(t, rocket.id, { preset: 'thumbnail' }),
      await urlOf(t, rocket.id),
      await urlOf(t, chelsea.id, { transform: { width: 150, format: 'PNG' } }),
    ];
    const answers: Fetched[] = [];
    for (let round = 0; round < 3; round += 1) for (const url of urls) answers.push(await fetchImage(url));
    const revalidated: Fetched[] = [];
    for (let i = 0; i < urls.length; i += 1) {
      const etag = answers[i]!.headers.get('etag')!;
      revalidated.push(await fetchImage(urls[i]!, { 'if-none-match': etag }));
    }
    // A URL in a non-canonical form is redirected, not served.
    expect(urls[3]).toMatch(/\/original\.jpg$/);
    const redirect = await fetchImage(urls[3]!.replace(/original\.jpg$/, 'original.jpeg'));

    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(revalidated.map((a) => a.status)).toEqual([304, 304, 304, 304, 304]);
    expect(redirect.status).toBe(301);
    const onDemand = answers.filter((a) => a.headers.get('x-cache') === 'render').length;
    expect(onDemand).toBe(3);
    const bytesServed = answers.reduce((n, a) => n + Number(a.headers.get('content-length')), 0);
    expect(bytesServed).toBe(answers.reduce((n, a) => n + a.body.length, 0));

    // A burst of warm requests is answered from memory: the registry is not written, and hardly
    // read (cached rows are checked again every few seconds, not per request).
    const db = t.tessera.registry.dataSource;
    // the renders above are stored (their rows inserted) in the background: not the burst's work
    await t.tessera.services.variants.idle();
    const before = t.tessera.registry.statements();
    const warm = urls.filter((_, i) => i !== 2); // preset URLs are looked up by the delivery service
    const burst = 40;
    let burstBytes = 0;
    for (let i = 0; i < burst; i += 1) {
      const answer = await fetchImage(warm[i % warm.length]!);
      expect(answer.status).toBe(200);
      burstBytes += Number(answer.headers.get('content-length'));
    }
    expect(t.tessera.registry.statements() - before).toBeLessThanOrEqual(2);
    const accessed = async () =>
      (
        (await db.query(
          'SELECT coalesce(sum(access_count), 0)::int AS n, count(last_accessed_at)::int AS stamped FROM variants WHERE space_id = $1',
          [rowId(spaceId)],
        )) as { n: number; stamped: number }[]
      )[0]!;
    expect(await db.query('SELECT day FROM usage_daily WHERE space_id = $1', [rowId(spaceId)])).toEqual([]);
    expect(await accessed()).toEqual({ n: 0, stamped: 0 });

    const stored = [...(await bucketObjects(t)).entries()]
      .filter(
        ([key]) =>
          key.startsWith(`originals/${rowId(spaceId)}/`) || key.startsWith(`variants/${rowId(spaceId)}/`),
      )
      .reduce((n, [, bytes]) => n + bytes, 0);
    const [{ ms }] = (await db.query(
      'SELECT coalesce(sum(processing_ms), 0)::int AS ms FROM variants WHERE space_id = $1',
      [rowId(spaceId)],
    )) as { ms: number }[];

    const expected = {
      requests: answers.length + revalidated.length + burst,
      bytesServed: bytesServed + burstBytes,
      renders: eagerRenders + onDemand,
      renderMs: ms,
      uploads: 2,
      storedBytes: stored,
    };
    expect(total(await usageOf(spaceId))).toEqual(expected);
    expect(t.tessera.services.variants.renders).toBe(eagerRenders + onDemand);
    // Variants' served counts (what pruning goes by) landed with the same flush.
    const variantServes = [...answers, ...revalidated].filter((_, i) => i % urls.length !== 3).length;
    expect(await accessed()).toEqual({ n: variantServes + burst - burst / warm.length, stamped: 4 });
    // Reading again adds nothing: flushed counts are not counted twice.
    expect(total(await usageOf(spaceId))).toEqual(expected);
    // The first space saw none of it.
    expect(total(await usageOf(t.boot.spaceId))).toMatchObject({ requests: 0, renders: 0, uploads: 0 });
  }, 90_000);

  it('a flush that fails midway loses nothing and counts nothing twice', async () => {
    const spaceId = await createSpace(t, 'Interrupted');
    const asset = await upload(t, 'coffee.png', { spaceId });
    await settle(t);
    const url = await urlOf(t, asset.id);
    let served = 0;
    for (let i = 0; i < 5; i += 1) {
      const answer = await fetchImage(url);
      expect(answer.status).toBe(200);
      served += answer.body.length;
    }
    // The registry fails the flush after its first statement (a table it reads is missing).
    const db = t.tessera.registry.dataSource;
    await db.query('ALTER TABLE variants RENAME TO variants_away');
    let failure: unknown;
    try {
      await t.tessera.services.usage.flush();
    } catch (error) {
      failure = error;
    } finally {
      await db.query('ALTER TABLE variants_away RENAME TO variants');
    }
    expect(failure).toBeDefined();

    expect(total(await usageOf(spaceId))).toMatchObject({ requests: 5, bytesServed: served, uploads: 1 });
    expect(total(await usageOf(spaceId))).toMatchObject({ requests: 5, bytesServed: served, uploads: 1 });
  }, 60_000);
});

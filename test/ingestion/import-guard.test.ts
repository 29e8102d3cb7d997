/**
 * `importAsset` against server-side request forgery, with the guard on: loopback, link-local
 * (cloud metadata), private and IPv6 loopback addresses are refused before any connection, and
 * every redirect is checked again. Where a refused address is reachable on this machine, a live
 * server listens there and must see no request.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fixture } from '../support/fixtures.js';
import { codes, startTestTessera, type GraphQLResponse, type TestTessera } from '../support/tessera.js';
import {
  holdings,
  importAsset,
  JOBS_OFF,
  loopbackServer,
  sha256,
  type LoopbackServer,
} from './ingest-client.js';

const photo = fixture('rocket.jpg');

/** A server holding the photograph, recording every request it gets. */
async function photoServer(host: string): Promise<LoopbackServer & { seen: string[] }> {
  const seen: string[] = [];
  const server = await loopbackServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(photo.length) }).end(photo);
  }, host);
  return Object.assign(server, { seen });
}

const refusal = (res: GraphQLResponse<unknown>) => ({
  codes: codes(res),
  reason: (res.errors?.[0]?.extensions?.details as { reason?: unknown } | undefined)?.reason,
});

describe('ingestion: importAsset refuses private and internal addresses (guard on)', () => {
  let t: TestTessera;
  let v4: LoopbackServer & { seen: string[] };
  let v6: LoopbackServer & { seen: string[] };

  beforeAll(async () => {
    t = await startTestTessera({ env: { ...JOBS_OFF, IMPORT_TIMEOUT_MS: '3000' } });
    v4 = await photoServer('127.0.0.1');
    v6 = await photoServer('::1');
  }, 120_000);
  afterAll(async () => {
    await v4?.close();
    await v6?.close();
    await t?.close();
  });

  it.each([
    ['127.0.0.1 (loopback, a live server)', () => `http://127.0.0.1:${v4.port}/rocket.jpg`],
    ['[::1] (IPv6 loopback, a live server)', () => `http://[::1]:${v6.port}/rocket.jpg`],
    ['localhost (a name resolving to loopback)', () => `http://localhost:${v4.port}/rocket.jpg`],
    [
      '[::ffff:127.0.0.1] (IPv4-mapped IPv6 loopback)',
      () => `http://[::ffff:127.0.0.1]:${v4.port}/rocket.jpg`,
    ],
    ['0.0.0.0 (this host)', () => `http://0.0.0.0:${v4.port}/rocket.jpg`],
    [
      '169.254.169.254 (cloud metadata)',
      () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    ],
    ['10.0.0.1 (private network)', () => 'http://10.0.0.1/rocket.jpg'],
    ['[fd00::1] (IPv6 unique local)', () => 'http://[fd00::1]/rocket.jpg'],
  ])('refuses %s with BAD_USER_INPUT, reason blocked-address, before connecting', async (_name, url) => {
    const before = await holdings(t);
    const res = await importAsset(t, url());
    expect(refusal(res)).toEqual({ codes: ['BAD_USER_INPUT'], reason: 'blocked-address' });
    expect(res.errors?.[0]?.message).toMatch(/Refusing to fetch/);
    expect(v4.seen).toEqual([]);
    expect(v6.seen).toEqual([]);
    expect(await holdings(t)).toEqual(before);
  });

  it('refuses URLs that are not http(s) or carry credentials (reason invalid-url)', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/a.jpg',
      'gopher://127.0.0.1:6379/_INFO',
      `http://user:pass@127.0.0.1:${v4.port}/rocket.jpg`,
      'not a url',
    ]) {
      expect({ url, ...refusal(await importAsset(t, url)) }).toEqual({
        url,
        codes: ['BAD_USER_INPUT'],
        reason: 'invalid-url',
      });
    }
    expect(v4.seen).toEqual([]);
  });
});

describe('ingestion: importAsset checks every redirect again (only 127.0.0.1/32 allowed)', () => {
  let t: TestTessera;
  let allowed: LoopbackServer;
  let otherLoopback: LoopbackServer & { seen: string[] };
  let v6: LoopbackServer & { seen: string[] };

  beforeAll(async () => {
    t = await startTestTessera({
      env: { ...JOBS_OFF, IMPORT_ALLOW_NETWORKS: '127.0.0.1/32', IMPORT_TIMEOUT_MS: '3000' },
    });
    // 127.0.0.2 is loopback too, but outside the allowed /32: a live target a broken guard would reach.
    otherLoopback = await photoServer('127.0.0.2');
    v6 = await photoServer('::1');
    allowed = await loopbackServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const to = url.searchParams.get('to');
      if (url.pathname === '/photo.jpg') {
        res
          .writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(photo.length) })
          .end(photo);
      } else if (url.pathname === '/redirect' && to !== null) {
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end();
      } else if (url.pathname === '/loop') {
        const n = Number(url.searchParams.get('n') ?? 0);
        res.writeHead(302, { location: `/loop?n=${n + 1}` }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  }, 120_000);
  afterAll(async () => {
    await allowed?.close();
    await otherLoopback?.close();
    await v6?.close();
    await t?.close();
  });

  const via = (target: string, status = 302) =>
    `${allowed.origin}/redirect?status=${status}&to=${encodeURIComponent(target)}`;

  it('follows a redirect that stays on the allowed host', async () => {
    const res = await importAsset(t, via(`${allowed.origin}/photo.jpg`, 301));
    expect(res.errors).toBeUndefined();
    expect(res.data?.importAsset).toMatchObject({
      sha256: sha256(photo),
      width: 640,
      height: 427,
      filename: 'photo.jpg',
    });
  });

  it.each([
    ['169.254.169.254 (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data/', 302],
    ['10.0.0.1 (private network)', () => 'http://10.0.0.1/photo.jpg', 307],
    [
      '127.0.0.2 (loopback outside the allowed /32, a live server)',
      () => `http://127.0.0.2:${otherLoopback.port}/photo.jpg`,
      301,
    ],
    ['[::1] (IPv6 loopback, a live server)', () => `http://[::1]:${v6.port}/photo.jpg`, 308],
  ])(
    'refuses a redirect to %s with BAD_USER_INPUT, reason blocked-address',
    async (_name, target, status) => {
      const before = await holdings(t);
      const res = await importAsset(t, via(target(), status));
      expect(refusal(res)).toEqual({ codes: ['BAD_USER_INPUT'], reason: 'blocked-address' });
      expect(otherLoopback.seen).toEqual([]);
      expect(v6.seen).toEqual([]);
      expect(await holdings(t)).toEqual(before);
    },
  );

  it('refuses a redirect to another scheme (reason invalid-url) and a redirect loop (reason too-many-redirects)', async () => {
    expect(refusal(await importAsset(t, via('file:///etc/passwd')))).toEqual({
      codes: ['BAD_USER_INPUT'],
      reason: 'invalid-url',
    });
    expect(refusal(await importAsset(t, `${allowed.origin}/loop`))).toEqual({
      codes: ['BAD_USER_INPUT'],
      reason: 'too-many-redirects',
    });
  });

  it('reports a missing file as BAD_USER_INPUT, reason http-status', async () => {
    const res = await importAsset(t, `${allowed.origin}/nothing-here.jpg`);
    expect(refusal(res)).toEqual({ codes: ['BAD_USER_INPUT'], reason: 'http-status' });
    expect(res.errors?.[0]?.extensions?.details).toMatchObject({ status: 404 });
  });
});

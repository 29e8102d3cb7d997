/**
 * The access log: one JSON line per request with its id, method, path, status and time — except,
 * by default (`ACCESS_LOG=misses`), images answered 200 or 304 from the in-process cache, which
 * the metrics still count; `ACCESS_LOG=all` logs those too.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { fetchImage, upload, urlOf } from '../delivery/delivery-client.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';

interface Line {
  msg: string;
  reqId?: string;
  url?: string;
  status?: number;
}

/** A Tessera whose log lines are kept in `lines`. */
async function withLog(accessLog: 'all' | 'misses'): Promise<{ t: TestTessera; lines: Line[] }> {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const t = await startTestTessera({
    env: { ACCESS_LOG: accessLog, JOBS_IN_PROCESS: 'false' },
    logger: pino({ level: 'info' }, sink),
  });
  return { t, lines };
}

describe.each(['misses', 'all'] as const)('ACCESS_LOG=%s', (accessLog) => {
  let t: TestTessera;
  let lines: Line[];

  beforeAll(async () => {
    ({ t, lines } = await withLog(accessLog));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it(
    accessLog === 'all'
      ? 'logs every request, cache hits included'
      : 'logs renders, refusals and GraphQL, not the images answered from memory',
    async () => {
      const asset = await upload(t, 'rocket.jpg');
      const url = await urlOf(t, asset.id, { transform: { width: 200 } });
      const path = new URL(url).pathname;
      const answers = [await fetchImage(url), await fetchImage(url), await fetchImage(url)];
      const etag = answers[0]!.headers.get('etag')!;
      const notModified = await fetchImage(url, { 'if-none-match': etag });
      const missing = await fetchImage(url.replace('w_200', 'w_0'));
      expect(answers.map((a) => a.headers.get('x-cache'))).toEqual(['render', 'memory', 'memory']);
      expect([notModified.status, missing.status]).toEqual([304, 400]);
      await new Promise((resolve) => setTimeout(resolve, 50));

      const logged = lines.filter((l) => l.msg === 'request');
      const ofImage = logged.filter((l) => l.url === path);
      const ids = [...answers, notModified].map((a) => a.headers.get('x-request-id'));
      if (accessLog === 'all') {
        expect(ofImage.map((l) => [l.reqId, l.status])).toEqual(
          ids.map((id, i) => [id, i === 3 ? 304 : 200]),
        );
      } else {
        expect(ofImage.map((l) => [l.reqId, l.status])).toEqual([[ids[0], 200]]);
      }
      expect(logged.some((l) => l.status === 400 && l.url?.includes('w_0'))).toBe(true);
      expect(logged.some((l) => l.url === '/graphql' && l.status === 200)).toBe(true);
    },
    60_000,
  );
});

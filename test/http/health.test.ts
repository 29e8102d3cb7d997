import { Agent, get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestTessera, type TestTessera } from '../support/tessera.js';

describe('health and readiness', () => {
  let t: TestTessera;
  let broken: TestTessera;

  beforeAll(async () => {
    t = await startTestTessera();
    // A Redis nobody listens on: the process is alive, but not ready.
    broken = await startTestTessera({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await broken?.close();
  });

  it('says alive on /healthz', async () => {
    const res = await fetch(`${t.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('says ready on /readyz when registry, cache and storage answer', async () => {
    const res = await fetch(`${t.baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { registry: 'ok', cache: 'ok', storage: 'ok' },
    });
  });

  it('answers 503 on /readyz naming the dependency that does not answer', async () => {
    expect((await fetch(`${broken.baseUrl}/healthz`)).status).toBe(200);
    const res = await fetch(`${broken.baseUrl}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as {
      status: string;
      unavailable: string[];
      checks: Record<string, string>;
    };
    expect(body.status).toBe('unavailable');
    expect(body.unavailable).toEqual(['cache']);
    expect(body.checks.registry).toBe('ok');
    expect(body.checks.cache).toMatch(/^error: /);
  }, 20_000);

  it('carries a request id on every response', async () => {
    const res = await fetch(`${t.baseUrl}/healthz`, { headers: { 'x-request-id': 'abc123' } });
    expect(res.headers.get('x-request-id')).toBe('abc123');
    const ids = new Set<string>();
    for (const given of [undefined, 'x'.repeat(65), 'a b', 'line\u00e9break']) {
      const answer = await fetch(`${t.baseUrl}/healthz`, {
        headers: given === undefined ? {} : { 'x-request-id': given },
      });
      const id = answer.headers.get('x-request-id') ?? '';
      expect([given, id]).toEqual([given, expect.stringMatching(/^[0-9a-f]{16,}$/)]);
      ids.add(id);
    }
    expect(ids.size).toBe(4);
  });

  it('keeps a connection open across requests answered at once', async () => {
    // One socket, three requests in turn: each answer must leave the connection usable.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (const path of ['/healthz', '/healthz', '/readyz']) {
        const answer = await new Promise<{ status: number; connection: string | undefined }>(
          (resolve, reject) => {
            const req = get(`${t.baseUrl}${path}`, { agent }, (res) => {
              sockets.add(res.socket);
              res.resume();
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
              );
            });
            req.on('error', reject);
          },
        );
        expect(answer).toEqual({ status: 200, connection: 'keep-alive' });
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

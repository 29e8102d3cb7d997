/**
 * WORKERS=2: one server of several processes on one port, as `npm start` runs it (the primary and
 * its workers are real processes on the run's PostgreSQL and Redis). Connections are shared out
 * among the workers, which answer as one server: a variant asked of both is rendered once,
 * `/metrics` from any worker counts every worker's answers, a worker that dies is replaced, and
 * SIGTERM stops them all with exit code 0.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { fixture } from '../support/fixtures.js';
import { createFreshDatabase, type FreshDatabase } from '../support/registry.js';
import { describeWith, testServices } from '../support/services.js';
import {
  startTesseraProcess,
  waitFor,
  workDirectory,
  type TesseraProcess,
} from '../reliability/processes.js';

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

/** A GET on a connection of its own (the cluster hands each new connection to a worker). */
function getAlone(url: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers))
          if (typeof value === 'string') headers[name] = value;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The sum of a metric's samples whose labels include `labels`, from Prometheus text. */
function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? ([-0-9.e+]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

const workerIdOf = (requestId: string | undefined): string => (requestId ?? '').slice(0, 8);

describeWith(['postgres', 'redis'], 'WORKERS: one server of several processes', () => {
  const work = workDirectory('workers');
  let database: FreshDatabase;
  let t: TesseraProcess;

  beforeAll(async () => {
    database = await createFreshDatabase();
    t = await startTesseraProcess(work, {
      WORKERS: '2',
      DATABASE_URL: database.url,
      REDIS_URL: testServices.redisUrl!,
      REDIS_PREFIX: `tessera-workers-${randomBytes(4).toString('hex')}:`,
      JOBS_IN_PROCESS: 'false',
    });
    await waitFor(
      'both workers',
      async () => t.child.log(100_000).includes('Tessera runs 2 worker processes'),
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  }, 30_000);

  it('shares connections out among two worker processes', async () => {
    expect(childrenOf(t.child.pid)).toHaveLength(2);
    const answers = await Promise.all(Array.from({ length: 12 }, () => getAlone(`${t.baseUrl}/healthz`)));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    // each process draws its own request-id prefix
    expect(new Set(answers.map((a) => workerIdOf(a.headers['x-request-id']))).size).toBe(2);
  }, 30_000);

  it('renders a variant asked of both workers once, and counts every answer in /metrics', async () => {
    const form = new FormData();
    const query = 'mutation($input: UploadAssetInput!) { uploadAsset(input: $input) { id } }';
    form.append(
      'operations',
      JSON.stringify({ query, variables: { input: { spaceId: t.boot.spaceId, file: null } } }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.append('0', new Blob([new Uint8Array(fixture('rocket.jpg'))], { type: 'image/jpeg' }), 'rocket.jpg');
    const uploaded = (await (
      await fetch(`${t.baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.boot.apiKey}`, 'apollo-require-preflight': 'true' },
        body: form,
      })
    ).json()) as { data: { uploadAsset: { id: string } } };
    const { data } = await t.gql<{ asset: { url: string } }>(
      'query($id: ID!) { asset(id: $id) { url(transform: { width: 333, format: WEBP }) } }',
      { id: uploaded.data.uploadAsset.id },
    );
    const url = data!.asset.url;
    const before = await (await fetch(`${t.baseUrl}/metrics`)).text();

    const answers = await Promise.all(Array.from({ length: 8 }, () => getAlone(url)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.headers.etag)).size).toBe(1);
    expect(new Set(answers.map((a) => workerIdOf(a.headers['x-request-id']))).size).toBe(2);

    const after = await (await fetch(`${t.baseUrl}/metrics`)).text();
    const delta = (name: string, labels: Record<string, string> = {}): number =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('tessera_render_duration_seconds_count', { format: 'webp' })).toBe(1);
    expect(delta('tessera_variant_answers_total')).toBe(8);
    expect(delta('tessera_http_request_duration_seconds_count', { route: '/metrics' })).toBe(1);
    // one resident-memory figure for the whole server: the workers' added up
    expect(sampleSum(after, 'tessera_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.match(/^tessera_process_resident_memory_bytes /gm)).toHaveLength(1);
  }, 60_000);

  it('replaces a worker that dies, and answers meanwhile', async () => {
    const [victim, survivor] = childrenOf(t.child.pid);
    process.kill(victim!, 'SIGKILL');
    await waitFor(
      'a replacement worker',
      async () => {
        const now = childrenOf(t.child.pid);
        return now.length === 2 && now.includes(survivor!) && !now.includes(victim!);
      },
      30_000,
    );
    await waitFor(
      'the replacement answering',
      async () => {
        const answers = await Promise.all(Array.from({ length: 6 }, () => getAlone(`${t.baseUrl}/healthz`)));
        return (
          answers.every((a) => a.status === 200) &&
          new Set(answers.map((a) => workerIdOf(a.headers['x-request-id']))).size === 2
        );
      },
      30_000,
    );
    expect(t.child.log(100_000)).toContain('worker exited; replacing it');
  }, 70_000);

  it('stops every worker on SIGTERM and exits 0', async () => {
    const workers = childrenOf(t.child.pid);
    expect(workers).toHaveLength(2);
    const started = Date.now();
    await t.child.stop('SIGTERM', 25_000);
    expect(await t.child.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 40_000);
});

/**
 * `npm run test:stress` (or `npm run load`): the load mix of the regular suite for 60 s (LOAD_SECONDS)
 * over 16 connections (LOAD_CONNECTIONS) — 70 % warm hits, 20 % cold renders, 10 % GraphQL against
 * a Tessera process on PostgreSQL, Redis and S3: no unexpected 5xx, 503 only with Retry-After,
 * resident memory steady. The table is printed and kept in test/.artifacts/load-report-stress.md.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import {
  formatLoad,
  loadProblems,
  prepareLoad,
  runLoad,
  warmUp,
  type LoadPlan,
} from '../reliability/load-mix.js';
import { startLoadServer, type LoadServer } from '../reliability/load-server.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 60);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 16);

describeWith(['postgres', 'redis', 's3'], 'stress: the load mix', () => {
  let server: LoadServer;
  let plan: LoadPlan;

  beforeAll(async () => {
    server = await startLoadServer();
    plan = await prepareLoad(server.api);
    await warmUp(server.api, plan, 5);
  }, 120_000);
  afterAll(async () => server?.close());

  it(`serves the mix for ${seconds} s: no unexpected 5xx, 503 only with Retry-After, memory steady`, async () => {
    const report = await runLoad(server.api, plan, { seconds, connections });
    const table = formatLoad(report);
    writeFileSync(join(repoRoot, 'test', '.artifacts', 'load-report-stress.md'), `${table}\n`);
    process.stdout.write(`\nLoad, ${seconds} s:\n${table}\n`);
    expect(loadProblems(report)).toEqual([]);
    expect(server.api.child.alive()).toBe(true);
    expect((await fetch(`${server.api.baseUrl}/healthz`)).status).toBe(200);
  });
});

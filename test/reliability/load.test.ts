/**
 * Load, at the size of the regular suite (`npm run test:stress` runs the same mix for 60 s): 70 %
 * warm hits, 20 % cold renders, 10 % GraphQL with autocannon over loopback against a Tessera process
 * on PostgreSQL, Redis and S3 — no unexpected 5xx, 503 only for shed renders and only with
 * Retry-After, resident memory steady. The table is printed and kept in test/.artifacts.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';
import { formatLoad, loadProblems, prepareLoad, runLoad, warmUp, type LoadPlan } from './load-mix.js';
import { startLoadServer, type LoadServer } from './load-server.js';

describeWith(
  ['postgres', 'redis', 's3'],
  'reliability: a bounded load of warm hits, cold renders and GraphQL',
  () => {
    let server: LoadServer;
    let plan: LoadPlan;

    beforeAll(async () => {
      server = await startLoadServer();
      plan = await prepareLoad(server.api);
      await warmUp(server.api, plan);
    }, 120_000);
    afterAll(async () => server?.close());

    it('serves the mix for 10 s: no unexpected 5xx, 503 only with Retry-After, memory steady', async () => {
      const report = await runLoad(server.api, plan, { seconds: 10, connections: 8 });
      const table = formatLoad(report);
      writeFileSync(join(repoRoot, 'test', '.artifacts', 'load-report.md'), `${table}\n`);
      process.stdout.write(`\nLoad, 10 s:\n${table}\n`);
      expect(loadProblems(report)).toEqual([]);
      expect(report.requests).toBeGreaterThan(200);
      expect(server.api.child.alive()).toBe(true);
      expect((await fetch(`${server.api.baseUrl}/healthz`)).status).toBe(200);
    }, 60_000);
  },
);

import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/fixtures.js';
import { describeWith } from '../support/services.js';

describeWith(['docker-compose'], 'docker-compose.yml', () => {
  it('is a valid Compose file', () => {
    const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs the API, workers, PostgreSQL, Redis and MinIO with a bucket, wired by the README variables', () => {
    const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const config = run.stdout;
    for (const service of ['api:', 'worker:', 'postgres:', 'redis:', 'minio:', 'minio-setup:'])
      expect(config).toContain(`  ${service}`);
    for (const variable of ['DATABASE_URL', 'REDIS_URL', 'S3_BUCKET', 'S3_ENDPOINT', 'PUBLIC_BASE_URL']) {
      expect(config).toContain(variable);
      expect(readFileSync(join(repoRoot, 'README.md'), 'utf8')).toContain(variable);
    }
    expect(config).toMatch(/mc mb --ignore-existing local\/tessera/);
    expect(config.match(/healthcheck:/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
  });
});

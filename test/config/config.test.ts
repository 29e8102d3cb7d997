import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/index.js';
import { repoRoot } from '../support/fixtures.js';

describe('configuration', () => {
  it('runs embedded when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.dataDir).toBe('./data');
    expect(config.embedded).toEqual({ registry: true, cache: true, storage: true });
    expect(config.baseUrl).toBe('http://localhost:4000');
    expect(config.maxUploadBytes).toBe(25 * 1024 * 1024);
    expect(config.maxInputPixels).toBe(100_000_000);
  });

  it('swaps in real components per variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://db/tessera',
      REDIS_URL: 'redis://cache:6379',
      S3_BUCKET: 'media',
    });
    expect(config.embedded).toEqual({ registry: false, cache: false, storage: false });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    [{ S3_ACCESS_KEY_ID: 'id-without-secret' }, 'S3_SECRET_ACCESS_KEY'],
    [{ MAX_UPLOAD_BYTES: '-1' }, 'MAX_UPLOAD_BYTES'],
    [{ WORKERS: 'many' }, 'WORKERS'],
    [{ WORKERS: '0' }, 'WORKERS'],
    // an embedded registry and in-process state belong to one process
    [{ WORKERS: '2' }, 'WORKERS'],
    [{ WORKERS: '2', DATABASE_URL: 'postgres://db/tessera' }, 'WORKERS'],
    [{ WORKERS: '2', REDIS_URL: 'redis://cache:6379' }, 'WORKERS'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('divides render slots and render memory among WORKERS processes', () => {
    const shared = { DATABASE_URL: 'postgres://db/tessera', REDIS_URL: 'redis://cache:6379' };
    const one = loadConfig({
      ...shared,
      MAX_CONCURRENT_RENDERS: '4',
      RENDER_MEMORY_BYTES: String(512 * 2 ** 20),
    });
    expect([one.workers, one.maxConcurrentRenders, one.renderMemoryBytes]).toEqual([1, 4, 512 * 2 ** 20]);
    const two = loadConfig({
      ...shared,
      WORKERS: '2',
      MAX_CONCURRENT_RENDERS: '4',
      RENDER_MEMORY_BYTES: String(512 * 2 ** 20),
    });
    expect([two.workers, two.maxConcurrentRenders, two.renderMemoryBytes]).toEqual([2, 2, 256 * 2 ** 20]);
    // every process renders, however few slots there are
    expect(loadConfig({ ...shared, WORKERS: '3', MAX_CONCURRENT_RENDERS: '2' }).maxConcurrentRenders).toBe(1);
    expect(loadConfig({ ...shared, WORKERS: 'auto' }).workers).toBeGreaterThanOrEqual(1);
  });

  it('documents every variable', () => {
    const rows = describeConfig();
    expect(rows.map((r) => r.env)).toEqual(
      expect.arrayContaining(['PORT', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'S3_BUCKET']),
    );
    for (const row of rows) expect(row.doc.length).toBeGreaterThan(5);
  });

  it('makes the server exit non-zero naming the bad variable', () => {
    const run = spawnSync(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid configuration: PORT must be an integer');
  }, 70_000);
});

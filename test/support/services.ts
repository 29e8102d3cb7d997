/**
 * What the global setup found, for suites: addresses of the real components, and a `describe`
 * that skips a suite (naming the missing component) when one is absent on a newcomer's machine.
 * With TESSERA_TEST_REQUIRE_ALL=1 the global setup has already failed the run instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe } from '@jest/globals';

export type Service = 'postgres' | 'redis' | 's3' | 'chromium' | 'docker-compose';

/** Debian's Chromium, driven by playwright-core. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const missing = (process.env.TESSERA_TEST_MISSING ?? '').split(';').filter(Boolean);

export const testServices = {
  /** A real PostgreSQL server, when DATABASE_URL was given. PGlite is always available in-process. */
  postgresUrl: process.env.TESSERA_TEST_DATABASE_URL,
  redisUrl: process.env.TESSERA_TEST_REDIS_URL,
  s3: {
    endpoint: process.env.TESSERA_TEST_S3_ENDPOINT ?? '',
    accessKeyId: process.env.TESSERA_TEST_S3_ACCESS_KEY_ID ?? 'S3RVER',
    secretAccessKey: process.env.TESSERA_TEST_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
    region: 'us-east-1',
  },
};

export function available(service: Service): boolean {
  switch (service) {
    case 'postgres':
      return testServices.postgresUrl !== undefined;
    case 'redis':
      return testServices.redisUrl !== undefined;
    case 's3':
      return testServices.s3.endpoint !== '';
    case 'chromium':
      return existsSync(CHROMIUM_PATH);
    case 'docker-compose':
      return spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0;
  }
}

/** `describe` when every listed service is available; otherwise a skipped suite whose name says why. */
export function describeWith(services: readonly Service[], name: string, fn: () => void): void {
  const absent = services.filter((s) => !available(s));
  if (absent.length === 0) {
    describe(name, fn);
    return;
  }
  if (process.env.TESSERA_TEST_REQUIRE_ALL === '1') {
    throw new Error(`${name}: required service(s) missing: ${absent.join(', ')}`);
  }
  const why = absent.map((s) => missing.find((m) => m.startsWith(s)) ?? `${s} not configured`).join('; ');
  describe.skip(`${name} [skipped: ${why}]`, fn);
}

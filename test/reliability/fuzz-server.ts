/**
 * The live server fuzzing runs against (regular suite and stress run alike): a Tessera with an
 * output limit of 1024 px and no rate limits, a small public photograph, a private one with a
 * signed URL, and another organization whose signing key forgeries use.
 */
import sharp from 'sharp';
import { bootstrapOrganization } from '../../src/tenancy/bootstrap.js';
import { fixture } from '../support/fixtures.js';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { JOBS_OFF } from '../ingestion/ingest-client.js';
import { imageBase, signerOf, upload, urlOf } from '../delivery/delivery-client.js';
import type { SignedParts } from './fuzz-cases.js';

/** The grammar limits of the fuzzing server. */
export const FUZZ_LIMITS = { maxOutputDimension: 1024, maxOperations: 24 } as const;

export interface FuzzServer {
  readonly t: TestTessera;
  /** `{origin}/v1/pub/…/img/{asset}/v1/` of the public photograph. */
  readonly publicBase: string;
  readonly signed: SignedParts;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const t = await startTestTessera({
    env: {
      ...JOBS_OFF,
      MAX_OUTPUT_DIMENSION: String(FUZZ_LIMITS.maxOutputDimension),
      RENDER_TIMEOUT_SECONDS: '10',
      RATE_LIMIT_GRAPHQL_PER_MINUTE: '0',
      RATE_LIMIT_IMAGES_PER_MINUTE: '0',
      RATE_LIMIT_RENDERS_PER_MINUTE: '0',
    },
  });
  // a small photograph: thousands of renders stay cheap
  const small = await sharp(fixture('rocket.jpg')).resize({ width: 160 }).jpeg().toBuffer();
  const pub = await upload(t, 'rocket.jpg', { bytes: small, filename: 'small.jpg' });
  const priv = await upload(t, 'rocket.jpg', {
    bytes: await sharp(small).flop().jpeg().toBuffer(),
    filename: 'private.jpg',
    access: 'PRIVATE',
  });
  const url = new URL(await urlOf(t, priv.id, { transform: { width: 100 }, expiresIn: 3600 }));
  const other = await bootstrapOrganization(t.tessera.registry.dataSource, t.tessera.services, t.baseUrl, {
    organization: 'Fuzz other',
  });
  const own = await signerOf(t, t.boot.organizationId);
  if (url.searchParams.get('kid') !== own.kid)
    throw new Error('the signed URL is not signed with the active key');
  return {
    t,
    publicBase: imageBase(t, pub),
    signed: {
      origin: url.origin,
      path: url.pathname,
      exp: Number(url.searchParams.get('exp')),
      kid: own.kid,
      sig: url.searchParams.get('sig')!,
      secret: own.secret,
      foreign: await signerOf(t, other.organizationId),
    },
  };
}

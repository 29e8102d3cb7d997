import type { ApiKeyService } from '../auth/api-keys.js';
import type { Authentication } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { AuditRecord, AuditService, RequestOrigin } from '../audit/audit.service.js';
import { unauthenticated } from '../errors/index.js';
import type { AssetUrls } from '../media/asset-urls.js';
import type { AssetsService } from '../media/assets.service.js';
import type { EagerPresets } from '../media/eager.service.js';
import type { Generations } from '../media/generations.js';
import type { PresetsService } from '../media/presets.service.js';
import type { QuotaService } from '../media/quota.service.js';
import type { UsageMeter } from '../media/usage.service.js';
import type { VariantQueries, VariantsService } from '../media/variants.service.js';
import type { GrammarLimits } from '../transforms/index.js';
import type { ImportService } from '../media/import.service.js';
import type { UploadsService } from '../media/uploads.service.js';
import type { SigningKeyService } from '../signing/signing-keys.service.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import type { Loaders } from './loaders.js';

/** The services resolvers call. Resolvers stay thin: authorize, call one service, shape the answer. */
export interface GraphQLServices {
  readonly tenancy: TenancyService;
  readonly apiKeys: ApiKeyService;
  readonly signingKeys: SigningKeyService;
  readonly audit: AuditService;
  readonly assets: AssetsService;
  readonly uploads: UploadsService;
  readonly imports: ImportService;
  readonly presets: PresetsService;
  readonly urls: AssetUrls;
  readonly variants: VariantsService;
  readonly variantQueries: VariantQueries;
  readonly usage: UsageMeter;
  readonly eager: EagerPresets;
  readonly quota: QuotaService;
  readonly generations: Generations;
}

export interface GraphQLLimits {
  readonly maxPageSize: number;
  readonly transforms: GrammarLimits;
  /** Width policy of spaces that set none. */
  readonly widthPolicy: 'any' | 'snap' | 'refuse';
}

/** Per-request context. */
export interface GraphQLContext {
  readonly auth: Authentication;
  readonly origin: RequestOrigin;
  readonly services: GraphQLServices;
  readonly loaders: Loaders;
  readonly limits: GraphQLLimits;
}

/**
 * The caller, or the reason there is none.
 * @throws DomainError UNAUTHENTICATED (missing, malformed, unknown, revoked or expired credentials).
 */
export function principalOf(ctx: GraphQLContext): Principal {
  if (ctx.auth.principal !== null) return ctx.auth.principal;
  throw ctx.auth.error ?? unauthenticated();
}

/** Writes the audit entry of a mutation made by the caller. */
export async function audit(ctx: GraphQLContext, record: AuditRecord): Promise<void> {
  const principal = principalOf(ctx);
  await ctx.services.audit.record(principal, ctx.origin, record);
  // Every mutation passes here once committed: rows cached for image requests are stale now.
  const organization = await ctx.loaders.organization.load(principal.organizationId);
  if (organization) await ctx.services.generations.bump(organization.slug);
}

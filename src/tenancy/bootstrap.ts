import type { DataSource } from 'typeorm';
import type { ApiKeyService } from '../auth/api-keys.js';
import { toPublicId } from '../ids/index.js';
import type { TenancyService } from './tenancy.service.js';

/** What `init` creates and prints; the shape of `$DATA_DIR/bootstrap.json`. */
export interface BootstrapResult {
  readonly apiKey: string;
  readonly organization: string;
  readonly tenant: string;
  readonly space: string;
  readonly organizationId: string;
  readonly tenantId: string;
  readonly spaceId: string;
  readonly graphqlUrl: string;
}

export interface BootstrapNames {
  readonly organization?: string;
  readonly tenant?: string;
  readonly space?: string;
}

/**
 * Creates an organization, its first tenant and space, and an organization-wide admin key, in one
 * transaction: all of it or nothing.
 */
export async function bootstrapOrganization(
  db: DataSource,
  services: { tenancy: TenancyService; apiKeys: ApiKeyService },
  baseUrl: string,
  names: BootstrapNames = {},
): Promise<BootstrapResult> {
  return db.transaction(async (manager) => {
    const { organization, tenant, space } = await services.tenancy.createOrganizationTree(
      {
        organization: names.organization ?? 'My organization',
        tenant: names.tenant ?? 'Default',
        space: names.space ?? 'Media',
      },
      manager,
    );
    const { token } = await services.apiKeys.createInitial(organization.id, 'Bootstrap admin key', manager);
    return {
      apiKey: token,
      organization: organization.slug,
      tenant: tenant.slug,
      space: space.slug,
      organizationId: toPublicId('Organization', organization.id),
      tenantId: toPublicId('Tenant', tenant.id),
      spaceId: toPublicId('Space', space.id),
      graphqlUrl: `${baseUrl}/graphql`,
    };
  });
}

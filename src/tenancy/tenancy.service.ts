import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { canManage, canSee, requireScope, type Principal } from '../auth/principal.js';
import {
  AssetEntity,
  OrganizationEntity,
  SpaceEntity,
  TenantEntity,
  type Access,
  type SpaceRateLimits,
  type TransformPolicy,
} from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { badInput, DomainError, ErrorCode, forbidden, notFound } from '../errors/index.js';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Postgres `unique_violation`, read from the driver's structured error code. */
export const isUniqueViolation = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';

const conflict = (message: string): DomainError => new DomainError(ErrorCode.Conflict, message);

function checkSlug(slug: string): string {
  if (!SLUG.test(slug)) {
    throw badInput(
      `slug must be 1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit (got "${slug}").`,
      { field: 'slug' },
    );
  }
  return slug;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200)
    throw badInput('name must be 1 to 200 characters.', { field: 'name' });
  return trimmed;
}

/** Turns a display name into a slug candidate. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return slug === '' ? 'default' : slug;
}

export const spaceOwnership = (space: SpaceEntity) => ({
  organizationId: space.organizationId,
  tenantId: space.tenantId,
  spaceId: space.id,
});

export const tenantOwnership = (tenant: TenantEntity) => ({
  organizationId: tenant.organizationId,
  tenantId: tenant.id,
  spaceId: null,
});

/** The largest per-minute limit a space may set. */
export const MAX_SPACE_RATE_LIMIT = 10_000_000;

const RATE_LIMIT_FIELDS = ['imagesPerMinute', 'rendersPerMinute'] as const;

/** A change to a space's per-minute limits: a number sets one, null clears it, absent keeps it. */
export type SpaceRateLimitsChange = {
  readonly [K in keyof SpaceRateLimits]?: number | null;
};

/**
 * The space's limits after `change` (null clears them all); undefined when none is left.
 * @throws DomainError BAD_USER_INPUT for a limit outside 0..MAX_SPACE_RATE_LIMIT, naming it.
 */
export function applyRateLimits(
  current: SpaceRateLimits | undefined,
  change: SpaceRateLimitsChange | null,
): SpaceRateLimits | undefined {
  if (change === null) return undefined;
  const next: SpaceRateLimits = { ...current };
  for (const field of RATE_LIMIT_FIELDS) {
    const value = change[field];
    if (value === undefined) continue;
    if (value === null) {
      delete next[field];
      continue;
    }
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SPACE_RATE_LIMIT) {
      throw badInput(
        `rateLimits.${field} must be an integer between 0 and ${MAX_SPACE_RATE_LIMIT} (got ${value}).`,
        { field: `rateLimits.${field}`, min: 0, max: MAX_SPACE_RATE_LIMIT },
      );
    }
    next[field] = value;
  }
  return Object.keys(next).length > 0 ? next : undefined;
}

export interface SpaceInput {
  readonly name?: string;
  readonly slug?: string;
  readonly defaultAccess?: Access;
  readonly transformPolicy?: TransformPolicy;
  readonly keepGps?: boolean;
  /** Checked widths (see `checkLadder`). */
  readonly widths?: number[];
  readonly widthPolicy?: 'any' | 'snap' | 'refuse';
  /** Per-minute limits (see `applyRateLimits`); null clears them. */
  readonly rateLimits?: SpaceRateLimitsChange | null;
}

/**
 * Organizations → tenants → spaces. Every read goes through `canSee`, every change through
 * `canManage`; an id the principal may not see answers exactly like an unknown id.
 */
export class TenancyService {
  private readonly spaceCreated: ((space: SpaceEntity, manager: EntityManager) => Promise<void>)[] = [];

  constructor(private readonly db: DataSource) {}

  /** Runs `listener` inside the transaction that creates each new space (default presets, say). */
  onSpaceCreated(listener: (space: SpaceEntity, manager: EntityManager) => Promise<void>): void {
    this.spaceCreated.push(listener);
  }

  /** Creates an organization with its first tenant and space (operators only: CLI and bootstrap). */
  async createOrganizationTree(
    names: { organization: string; tenant: string; space: string },
    manager: EntityManager = this.db.manager,
  ): Promise<{ organization: OrganizationEntity; tenant: TenantEntity; space: SpaceEntity }> {
    const organization = manager.create(OrganizationEntity, {
      id: uuidv7(),
      slug: await this.freeOrganizationSlug(slugify(names.organization), manager),
      name: checkName(names.organization),
    });
    await manager.insert(OrganizationEntity, organization);
    const tenant = manager.create(TenantEntity, {
      id: uuidv7(),
      organizationId: organization.id,
      slug: slugify(names.tenant),
      name: checkName(names.tenant),
    });
    await manager.insert(TenantEntity, tenant);
    const space = manager.create(SpaceEntity, {
      id: uuidv7(),
      organizationId: organization.id,
      tenantId: tenant.id,
      slug: slugify(names.space),
      name: checkName(names.space),
      defaultAccess: 'public',
      transformPolicy: 'any',
      keepGps: false,
      settings: {},
    });
    await manager.insert(SpaceEntity, space);
    for (const listener of this.spaceCreated) await listener(space, manager);
    return { organization, tenant, space };
  }

  private async freeOrganizationSlug(base: string, manager: EntityManager): Promise<string> {
    for (let n = 1; ; n += 1) {
      const suffix = n === 1 ? '' : `-${n}`;
      const candidate = `${base.slice(0, 63 - suffix.length)}${suffix}`;
      if (!(await manager.existsBy(OrganizationEntity, { slug: candidate }))) return candidate;
    }
  }

  async countOrganizations(): Promise<number> {
    return this.db.getRepository(OrganizationEntity).count();
  }

  // ---- organizations

  /** The principal's own organization. */
  async organization(principal: Principal): Promise<OrganizationEntity> {
    const org = await this.db.getRepository(OrganizationEntity).findOneBy({ id: principal.organizationId });
    if (!org) throw notFound('Organization');
    return org;
  }

  async organizationsByIds(ids: readonly string[]): Promise<OrganizationEntity[]> {
    return this.db.getRepository(OrganizationEntity).findBy({ id: In([...ids]) });
  }

  /** @throws FORBIDDEN for principals bound below the organization. */
  async updateOrganization(principal: Principal, input: { name?: string }): Promise<OrganizationEntity> {
    requireScope(principal, 'admin');
    if (principal.tenantId !== null)
      throw forbidden('Only an organization-wide key can change the organization.');
    const org = await this.organization(principal);
    if (input.name !== undefined) org.name = checkName(input.name);
    return this.db.getRepository(OrganizationEntity).save(org);
  }

  // ---- tenants

  async tenants(principal: Principal): Promise<TenantEntity[]> {
    const where =
      principal.tenantId === null ? { organizationId: principal.organizationId } : { id: principal.tenantId };
    return this.db.getRepository(TenantEntity).find({ where, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async tenantsByIds(ids: readonly string[]): Promise<TenantEntity[]> {
    return this.db.getRepository(TenantEntity).findBy({ id: In([...ids]) });
  }

  /** @throws NOT_FOUND for unknown or foreign ids. */
  async tenant(principal: Principal, id: string): Promise<TenantEntity> {
    const tenant = await this.db.getRepository(TenantEntity).findOneBy({ id });
    if (!tenant || !canSee(principal, tenantOwnership(tenant))) throw notFound('Tenant');
    return tenant;
  }

  async createTenant(principal: Principal, input: { name: string; slug?: string }): Promise<TenantEntity> {
    requireScope(principal, 'admin');
    if (principal.tenantId !== null) throw forbidden('Only an organization-wide key can create tenants.');
    const name = checkName(input.name);
    const tenant = this.db.getRepository(TenantEntity).create({
      id: uuidv7(),
      organizationId: principal.organizationId,
      slug: checkSlug(input.slug ?? slugify(name)),
      name,
    });
    try {
      await this.db.getRepository(TenantEntity).insert(tenant);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A tenant with slug "${tenant.slug}" already exists.`);
      throw error;
    }
    return tenant;
  }

  async updateTenant(
    principal: Principal,
    id: string,
    input: { name?: string; slug?: string },
  ): Promise<TenantEntity> {
    requireScope(principal, 'admin');
    const tenant = await this.tenant(principal, id);
    if (!canManage(principal, tenantOwnership(tenant))) throw notFound('Tenant');
    if (input.name !== undefined) tenant.name = checkName(input.name);
    if (input.slug !== undefined) tenant.slug = checkSlug(input.slug);
    try {
      return await this.db.getRepository(TenantEntity).save(tenant);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A tenant with slug "${tenant.slug}" already exists.`);
      throw error;
    }
  }

  /** Deletes an empty tenant. @throws CONFLICT while it still has spaces. */
  async deleteTenant(principal: Principal, id: string): Promise<void> {
    requireScope(principal, 'admin');
    if (principal.tenantId !== null) throw forbidden('Only an organization-wide key can delete tenants.');
    const tenant = await this.tenant(principal, id);
    if (await this.db.getRepository(SpaceEntity).existsBy({ tenantId: tenant.id })) {
      throw conflict('The tenant still has spaces; delete them first.');
    }
    await this.db.getRepository(TenantEntity).delete({ id: tenant.id });
  }

  // ---- spaces

  /** Spaces the principal may see, oldest first. */
  async spaces(principal: Principal): Promise<SpaceEntity[]> {
    const qb = this.db
      .getRepository(SpaceEntity)
      .createQueryBuilder('s')
      .where('s.organization_id = :org', { org: principal.organizationId });
    if (principal.tenantId !== null) qb.andWhere('s.tenant_id = :tenant', { tenant: principal.tenantId });
    if (principal.spaceId !== null) qb.andWhere('s.id = :space', { space: principal.spaceId });
    return qb.orderBy('s.created_at', 'ASC').addOrderBy('s.id', 'ASC').getMany();
  }

  /** Spaces that set a quota (for metrics), at most `limit`. */
  async spacesWithQuota(limit: number): Promise<SpaceEntity[]> {
    return this.db
      .getRepository(SpaceEntity)
      .createQueryBuilder('s')
      .where(`s.settings ? 'quota' AND s.settings->'quota' <> '{}'::jsonb`)
      .orderBy('s.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  async spacesByIds(ids: readonly string[]): Promise<SpaceEntity[]> {
    return this.db.getRepository(SpaceEntity).findBy({ id: In([...ids]) });
  }

  /**
   * Spaces by ids, each with the slugs of its URL path (organization, tenant, space), in one query
   * for loaders (callers check visibility). A space whose tenant or organization is gone is left out.
   */
  async spacePathsByIds(
    ids: readonly string[],
  ): Promise<{ space: SpaceEntity; path: { org: string; tenant: string; space: string } }[]> {
    if (ids.length === 0) return [];
    const { entities, raw } = await this.db
      .getRepository(SpaceEntity)
      .createQueryBuilder('s')
      .innerJoin(TenantEntity, 't', 't.id = s.tenant_id')
      .innerJoin(OrganizationEntity, 'o', 'o.id = s.organization_id')
      .addSelect('t.slug', 'tenant_slug')
      .addSelect('o.slug', 'organization_slug')
      .where('s.id IN (:...ids)', { ids: [...ids] })
      .getRawAndEntities<{ s_id: string; tenant_slug: string; organization_slug: string }>();
    const slugs = new Map(raw.map((row) => [row.s_id, row]));
    return entities.flatMap((space) => {
      const row = slugs.get(space.id);
      return row
        ? [{ space, path: { org: row.organization_slug, tenant: row.tenant_slug, space: space.slug } }]
        : [];
    });
  }

  /** @throws NOT_FOUND for unknown or foreign ids. */
  async space(principal: Principal, id: string): Promise<SpaceEntity> {
    const space = await this.db.getRepository(SpaceEntity).findOneBy({ id });
    if (!space || !canSee(principal, spaceOwnership(space))) throw notFound('Space');
    return space;
  }

  /** Finds a space by its URL path (organization, tenant and space slugs); no principal (public URLs). */
  async spaceByPath(orgSlug: string, tenantSlug: string, spaceSlug: string): Promise<SpaceEntity | null> {
    // A string no slug can be (a NUL byte, say, which PostgreSQL refuses in text) names no space.
    if (![orgSlug, tenantSlug, spaceSlug].every((slug) => SLUG.test(slug))) return null;
    return this.db
      .getRepository(SpaceEntity)
      .createQueryBuilder('s')
      .innerJoin(TenantEntity, 't', 't.id = s.tenant_id')
      .innerJoin(OrganizationEntity, 'o', 'o.id = s.organization_id')
      .where('o.slug = :o AND t.slug = :t AND s.slug = :s', { o: orgSlug, t: tenantSlug, s: spaceSlug })
      .getOne();
  }

  async createSpace(
    principal: Principal,
    input: SpaceInput & { tenantId: string; name: string },
  ): Promise<SpaceEntity> {
    requireScope(principal, 'admin');
    const tenant = await this.tenant(principal, input.tenantId);
    if (principal.spaceId !== null || !canManage(principal, tenantOwnership(tenant))) {
      throw forbidden('This key cannot create spaces in that tenant.');
    }
    const name = checkName(input.name);
    const space = this.db.getRepository(SpaceEntity).create({
      id: uuidv7(),
      organizationId: tenant.organizationId,
      tenantId: tenant.id,
      slug: checkSlug(input.slug ?? slugify(name)),
      name,
      defaultAccess: input.defaultAccess ?? 'public',
      transformPolicy: input.transformPolicy ?? 'any',
      keepGps: input.keepGps ?? false,
      settings: {},
    });
    try {
      await this.db.transaction(async (manager) => {
        await manager.insert(SpaceEntity, space);
        for (const listener of this.spaceCreated) await listener(space, manager);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(`A space with slug "${space.slug}" already exists in this tenant.`);
      throw error;
    }
    return space;
  }

  async updateSpace(principal: Principal, id: string, input: SpaceInput): Promise<SpaceEntity> {
    requireScope(principal, 'admin');
    const space = await this.space(principal, id);
    if (input.rateLimits !== undefined) {
      // Like its quota, a space's limits protect the organization from the space's own traffic.
      if (principal.spaceId !== null)
        throw forbidden('A key bound to a space cannot change its rate limits.');
      const { rateLimits: _previous, ...rest } = space.settings;
      const rateLimits = applyRateLimits(space.settings.rateLimits, input.rateLimits);
      space.settings = rateLimits === undefined ? rest : { ...rest, rateLimits };
    }
    if (input.name !== undefined) space.name = checkName(input.name);
    if (input.slug !== undefined) space.slug = checkSlug(input.slug);
    if (input.defaultAccess !== undefined) space.defaultAccess = input.defaultAccess;
    if (input.transformPolicy !== undefined) space.transformPolicy = input.transformPolicy;
    if (input.keepGps !== undefined) space.keepGps = input.keepGps;
    if (input.widths !== undefined) space.settings = { ...space.settings, widths: input.widths };
    if (input.widthPolicy !== undefined)
      space.settings = { ...space.settings, widthPolicy: input.widthPolicy };
    try {
      return await this.db.getRepository(SpaceEntity).save(space);
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(`A space with slug "${space.slug}" already exists in this tenant.`);
      throw error;
    }
  }

  /** Deletes a space without live assets. @throws CONFLICT while it has assets. */
  async deleteSpace(principal: Principal, id: string): Promise<void> {
    requireScope(principal, 'admin');
    const space = await this.space(principal, id);
    if (principal.spaceId !== null) throw forbidden('A key bound to a space cannot delete it.');
    const live = await this.db
      .getRepository(AssetEntity)
      .createQueryBuilder('a')
      .where('a.space_id = :id', { id: space.id })
      .getExists();
    if (live) throw conflict('The space still has assets; delete them first.');
    await this.db.getRepository(SpaceEntity).delete({ id: space.id });
  }
}

import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { canManage, canSee, requireScope, type Principal } from '../auth/principal.js';
import { PresetEntity, type SpaceEntity } from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { badInput, DomainError, ErrorCode, forbidden, notFound } from '../errors/index.js';
import {
  canonicalPlan,
  planFromInput,
  printPlan,
  PRESET_SLUG,
  type GrammarLimits,
  type TransformPlan,
} from '../transforms/index.js';
import { isUniqueViolation, type TenancyService } from '../tenancy/tenancy.service.js';
import { normalizeFolder, normalizeTags } from './asset-input.js';

export interface PresetInput {
  readonly name?: string;
  readonly slug?: string;
  readonly transform?: Readonly<Record<string, unknown>>;
  readonly autoGenerate?: boolean;
  readonly matchTags?: readonly string[];
  readonly matchFolders?: readonly string[];
}

/** The plan a stored preset holds (its canonical operations). */
export const presetPlan = (preset: PresetEntity, limits: GrammarLimits): TransformPlan =>
  planFromInput(preset.operations as Record<string, unknown>, limits);

/**
 * A transform whose width and height are scaled down together, when the larger of them is over
 * `maxOutputDimension` (px), so that a built-in preset stays valid on a server with a lower limit.
 */
function shrunkToFit(transform: TransformPlan, maxOutputDimension: number): TransformPlan {
  const longest = Math.max(transform.width ?? 0, transform.height ?? 0);
  if (longest <= maxOutputDimension) return transform;
  const scale = maxOutputDimension / longest;
  const shrink = (side: number | undefined) =>
    side === undefined ? undefined : Math.max(1, Math.floor(side * scale));
  return { ...transform, width: shrink(transform.width), height: shrink(transform.height) };
}

/**
 * Presets: named transforms per space, or organization-wide and inherited by every space (a
 * space's own preset of the same slug wins). Operations are stored canonical; editing a preset
 * changes its canonical string, so variants made for the old definition are not served for it.
 */
export class PresetsService {
  constructor(
    private readonly db: DataSource,
    private readonly tenancy: TenancyService,
    private readonly limits: GrammarLimits,
  ) {}

  private plan(transform: Readonly<Record<string, unknown>> | undefined): {
    operations: TransformPlan;
    canonical: string;
  } {
    if (transform === undefined) throw badInput('A preset needs a transform.', { field: 'transform' });
    const plan = canonicalPlan(planFromInput(transform, this.limits));
    const canonical = printPlan(plan);
    if (canonical === '') throw badInput('A preset needs at least one operation.', { field: 'transform' });
    return { operations: plan, canonical };
  }

  /**
   * Creates a preset in a space, or organization-wide when `spaceId` is null.
   * @throws DomainError FORBIDDEN (scope; organization-wide from a bound key), CONFLICT (slug taken), BAD_USER_INPUT.
   */
  async create(
    principal: Principal,
    spaceId: string | null,
    input: PresetInput & { name: string; slug: string },
  ): Promise<PresetEntity> {
    requireScope(principal, 'presets:write');
    let space: SpaceEntity | null = null;
    if (spaceId !== null) space = await this.tenancy.space(principal, spaceId);
    else if (principal.tenantId !== null)
      throw forbidden('Only an organization-wide key can create organization-wide presets.');
    if (!PRESET_SLUG.test(input.slug))
      throw badInput(`slug must be 1 to 63 lowercase letters, digits or hyphens (got "${input.slug}").`, {
        field: 'slug',
      });
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200)
      throw badInput('name must be 1 to 200 characters.', { field: 'name' });
    const { operations, canonical } = this.plan(input.transform);
    const preset = this.db.getRepository(PresetEntity).create({
      id: uuidv7(),
      organizationId: principal.organizationId,
      tenantId: space?.tenantId ?? null,
      spaceId: space?.id ?? null,
      slug: input.slug,
      name,
      operations: { ...operations },
      canonical,
      autoGenerate: input.autoGenerate ?? false,
      matchTags: normalizeTags(input.matchTags),
      matchFolders: (input.matchFolders ?? []).map((f) => normalizeFolder(f)),
    });
    try {
      await this.db.getRepository(PresetEntity).insert(preset);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new DomainError(ErrorCode.Conflict, `A preset "${input.slug}" already exists here.`, {
          details: { field: 'slug' },
        });
      throw error;
    }
    return preset;
  }

  /** A preset the principal may see. @throws DomainError NOT_FOUND */
  async get(principal: Principal, id: string): Promise<PresetEntity> {
    requireScope(principal, 'assets:read');
    const preset = await this.db.getRepository(PresetEntity).findOneBy({ id });
    if (!preset || !canSee(principal, preset)) throw notFound('Preset');
    return preset;
  }

  async update(principal: Principal, id: string, input: PresetInput): Promise<PresetEntity> {
    requireScope(principal, 'presets:write');
    const preset = await this.get(principal, id);
    if (!canManage(principal, preset)) throw notFound('Preset');
    if (input.name !== undefined) {
      const name = input.name.trim();
      if (name.length < 1 || name.length > 200)
        throw badInput('name must be 1 to 200 characters.', { field: 'name' });
      preset.name = name;
    }
    if (input.slug !== undefined) {
      if (!PRESET_SLUG.test(input.slug))
        throw badInput(`slug must be 1 to 63 lowercase letters, digits or hyphens (got "${input.slug}").`, {
          field: 'slug',
        });
      preset.slug = input.slug;
    }
    if (input.transform !== undefined) {
      const { operations, canonical } = this.plan(input.transform);
      preset.operations = { ...operations };
      preset.canonical = canonical;
    }
    if (input.autoGenerate !== undefined) preset.autoGenerate = input.autoGenerate;
    if (input.matchTags !== undefined) preset.matchTags = normalizeTags(input.matchTags);
    if (input.matchFolders !== undefined)
      preset.matchFolders = input.matchFolders.map((f) => normalizeFolder(f));
    try {
      await this.db.getRepository(PresetEntity).save(preset);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new DomainError(ErrorCode.Conflict, `A preset "${preset.slug}" already exists here.`, {
          details: { field: 'slug' },
        });
      throw error;
    }
    return preset;
  }

  async delete(principal: Principal, id: string): Promise<PresetEntity> {
    requireScope(principal, 'presets:write');
    const preset = await this.get(principal, id);
    if (!canManage(principal, preset)) throw notFound('Preset');
    await this.db.getRepository(PresetEntity).delete({ id: preset.id });
    return preset;
  }

  /** Presets a space serves: its own, and the organization's whose slug it does not override. */
  async forSpace(space: Pick<SpaceEntity, 'id' | 'organizationId'>): Promise<PresetEntity[]> {
    const rows = await this.db
      .getRepository(PresetEntity)
      .createQueryBuilder('p')
      .where('p.organization_id = :org AND (p.space_id = :space OR p.space_id IS NULL)', {
        org: space.organizationId,
        space: space.id,
      })
      .orderBy('p.slug', 'ASC')
      .getMany();
    const own = new Set(rows.filter((p) => p.spaceId !== null).map((p) => p.slug));
    return rows.filter((p) => p.spaceId !== null || !own.has(p.slug));
  }

  /**
   * Gives a new space the default presets (thumbnail, medium, large; WebP; eager), each box shrunk
   * (keeping its shape) where it is larger than the server's output limit.
   * Runs with the caller's transaction manager when given.
   */
  async createDefaults(
    space: Pick<SpaceEntity, 'id' | 'organizationId' | 'tenantId'>,
    defaults: readonly { slug: string; name: string; transform: TransformPlan }[],
    manager = this.db.manager,
  ): Promise<void> {
    for (const d of defaults) {
      const plan = canonicalPlan(
        planFromInput({ ...shrunkToFit(d.transform, this.limits.maxOutputDimension) }, this.limits),
      );
      await manager
        .createQueryBuilder()
        .insert()
        .into(PresetEntity)
        .values({
          id: uuidv7(),
          organizationId: space.organizationId,
          tenantId: space.tenantId,
          spaceId: space.id,
          slug: d.slug,
          name: d.name,
          operations: { ...plan },
          canonical: printPlan(plan),
          autoGenerate: true,
          matchTags: [],
          matchFolders: [],
        })
        .orIgnore()
        .execute();
    }
  }

  /** `presets(spaceId)`. */
  async list(principal: Principal, spaceId: string): Promise<PresetEntity[]> {
    requireScope(principal, 'assets:read');
    return this.forSpace(await this.tenancy.space(principal, spaceId));
  }

  /** Organization-wide presets. */
  async listOrganization(principal: Principal): Promise<PresetEntity[]> {
    requireScope(principal, 'assets:read');
    return this.db.getRepository(PresetEntity).find({
      where: { organizationId: principal.organizationId, spaceId: IsNull() },
      order: { slug: 'ASC' },
    });
  }

  /**
   * The preset a space serves under `slug` (its own, else the organization's), read fresh in one
   * query: an edit or a deletion made through any node applies to the next image request.
   */
  async resolve(
    space: Pick<SpaceEntity, 'id' | 'organizationId'>,
    slug: string,
  ): Promise<PresetEntity | null> {
    return this.db
      .getRepository(PresetEntity)
      .createQueryBuilder('p')
      .where('p.organization_id = :org AND p.slug = :slug AND (p.space_id = :space OR p.space_id IS NULL)', {
        org: space.organizationId,
        space: space.id,
        slug,
      })
      .orderBy('p.space_id', 'ASC', 'NULLS LAST')
      .getOne();
  }
}

import type { DataSource } from 'typeorm';
import type { SharedState } from '../cache/cache.js';
import { AssetEntity, PresetEntity, VariantEntity } from '../db/entities/index.js';
import { isDomainError, ErrorCode } from '../errors/index.js';
import { PermanentJobError, type JobContext, type JobQueue } from '../jobs/queue.js';
import type { Logger } from '../observability/logger.js';
import {
  canonicalPlan,
  naturalFormat,
  planFromInput,
  printPlan,
  type GrammarLimits,
  type OutputFormat,
  type TransformPlan,
} from '../transforms/index.js';
import { presetPlan, type PresetsService } from './presets.service.js';
import { isCurrentVersion, variantKey, type VariantsService } from './variants.service.js';
import { sourceOf } from './asset-source.js';

export const EAGER_JOB = 'preset.render';

export type EagerStatus = 'pending' | 'done' | 'failed';

export interface EagerJob {
  readonly assetId: string;
  readonly version: number;
  readonly presetId: string;
}

/** The defaults a new space gets: thumbnail, medium and large, WebP, rendered eagerly. */
export const DEFAULT_PRESETS: readonly { slug: string; name: string; transform: TransformPlan }[] = [
  {
    slug: 'thumbnail',
    name: 'Thumbnail',
    transform: { width: 300, height: 300, fit: 'inside', format: 'webp' },
  },
  { slug: 'medium', name: 'Medium', transform: { width: 800, height: 600, fit: 'inside', format: 'webp' } },
  { slug: 'large', name: 'Large', transform: { width: 1600, height: 1200, fit: 'inside', format: 'webp' } },
];

/** Does a preset apply to an asset (tags and folders it is limited to)? */
export function presetMatches(
  preset: Pick<PresetEntity, 'matchTags' | 'matchFolders'>,
  asset: Pick<AssetEntity, 'tags' | 'folder'>,
): boolean {
  const tagOk = preset.matchTags.length === 0 || preset.matchTags.some((t) => asset.tags.includes(t));
  const folderOk =
    preset.matchFolders.length === 0 ||
    preset.matchFolders.some((f) => f === '' || asset.folder === f || asset.folder.startsWith(`${f}/`));
  return tagOk && folderOk;
}

const failureKey = (job: EagerJob): string => `eager-failed:${job.assetId}:${job.version}:${job.presetId}`;
export const eagerJobId = (job: EagerJob): string => `eager.${job.assetId}.${job.version}.${job.presetId}`;

/**
 * Eager presets: presets with `autoGenerate` (and matching tags/folders) are rendered in the
 * background right after an asset is ingested or replaced; one job per (asset, version, preset).
 * The image endpoint still renders on demand if a request comes first: single flight shares it.
 */
export class EagerPresets {
  constructor(
    private readonly db: DataSource,
    private readonly presets: PresetsService,
    private readonly variants: VariantsService,
    private readonly queue: JobQueue,
    private readonly state: SharedState,
    private readonly limits: GrammarLimits,
    private readonly logger: Logger,
  ) {}

  private async eagerPresetsOf(asset: AssetEntity): Promise<PresetEntity[]> {
    const presets = await this.presets.forSpace({ id: asset.spaceId, organizationId: asset.organizationId });
    return presets.filter((p) => p.autoGenerate && presetMatches(p, asset));
  }

  /** Enqueues the eager renders of an asset's current version. */
  async enqueueFor(asset: AssetEntity): Promise<number> {
    const presets = await this.eagerPresetsOf(asset);
    for (const preset of presets) {
      const job: EagerJob = { assetId: asset.id, version: asset.version, presetId: preset.id };
      await this.queue.enqueue(EAGER_JOB, job, { jobId: eagerJobId(job) });
    }
    return presets.length;
  }

  private target(asset: AssetEntity, preset: PresetEntity): { plan: TransformPlan; format: OutputFormat } {
    const plan = canonicalPlan(presetPlan(preset, this.limits));
    const source = sourceOf(asset);
    const format: OutputFormat =
      plan.format === undefined ? naturalFormat(source) : plan.format === 'auto' ? 'webp' : plan.format;
    return { plan: { ...plan, format }, format };
  }

  /**
   * The job: render one preset of one asset version (nothing to do if the asset moved on). A
   * failure retrying cannot help, or the failure of the last try, marks the preset failed for
   * `status`.
   * @throws PermanentJobError when the render is refused; the render's error when it may pass.
   */
  async run(data: unknown, context?: Pick<JobContext, 'attempt' | 'attempts'>): Promise<void> {
    const job = eagerJobOf(data);
    const asset = await this.db.getRepository(AssetEntity).findOneBy({ id: job.assetId });
    if (!asset || asset.deletedAt !== null || asset.version !== job.version) return;
    const preset = await this.db.getRepository(PresetEntity).findOneBy({ id: job.presetId });
    if (!preset) return;
    const { plan, format } = this.target(asset, preset);
    try {
      const variant = await this.variants.deliver({ asset, plan, format, presetId: preset.id });
      await variant.stored; // the job is done when the variant is in the registry
    } catch (error) {
      if (await movedOn(this.db, error, asset)) return;
      if (
        isDomainError(error) &&
        error.code !== ErrorCode.ServiceUnavailable &&
        error.code !== ErrorCode.Internal
      ) {
        await this.markFailed(job, error.code);
        this.logger.warn({ job, code: error.code }, 'eager render refused: dead-lettered');
        throw new PermanentJobError(`${error.code}: ${error.message}`, { cause: error });
      }
      if (context !== undefined && context.attempt >= context.attempts) {
        await this.markFailed(job, isDomainError(error) ? error.code : ErrorCode.Internal);
      }
      throw error;
    }
  }

  private async markFailed(job: EagerJob, code: string): Promise<void> {
    await this.state.set(failureKey(job), Buffer.from(code), 7 * 86_400).catch(() => undefined);
  }

  /** Where each eager variant of an asset's current version stands. */
  async status(
    asset: AssetEntity,
  ): Promise<{ preset: PresetEntity; status: EagerStatus; variant: VariantEntity | null }[]> {
    const presets = await this.eagerPresetsOf(asset);
    if (presets.length === 0) return [];
    const keys = presets.map((p) => {
      const { plan, format } = this.target(asset, p);
      return variantKey(asset, printPlan(plan), format);
    });
    const rows = await this.db
      .getRepository(VariantEntity)
      .createQueryBuilder('v')
      .where('v.variant_key IN (:...keys)', { keys })
      .getMany();
    const byKey = new Map(rows.map((r) => [r.variantKey, r]));
    const out = [];
    for (let i = 0; i < presets.length; i += 1) {
      const variant = byKey.get(keys[i]!) ?? null;
      let status: EagerStatus = variant ? 'done' : 'pending';
      if (!variant) {
        const failed = await this.state
          .get(failureKey({ assetId: asset.id, version: asset.version, presetId: presets[i]!.id }))
          .catch(() => undefined);
        if (failed) status = 'failed';
      }
      out.push({ preset: presets[i]!, status, variant });
    }
    return out;
  }
}

/** Checks an eager job's payload. @throws PermanentJobError for a malformed one. */
export function eagerJobOf(data: unknown): EagerJob {
  const d = data as Partial<EagerJob> | null;
  if (
    typeof d === 'object' &&
    d !== null &&
    typeof d.assetId === 'string' &&
    typeof d.version === 'number' &&
    typeof d.presetId === 'string'
  ) {
    return { assetId: d.assetId, version: d.version, presetId: d.presetId };
  }
  throw new PermanentJobError('malformed eager render job');
}

export const AVIF_JOB = 'avif.render';

export interface AvifJob {
  readonly assetId: string;
  readonly version: number;
  readonly plan: TransformPlan;
  readonly presetId: string | null;
}

/** A render failed because its asset was deleted or replaced meanwhile: nothing is left to do. */
async function movedOn(db: DataSource, error: unknown, asset: AssetEntity): Promise<boolean> {
  return (
    isDomainError(error) &&
    error.code === ErrorCode.NotFound &&
    !(await isCurrentVersion(db, asset.id, asset.version).catch(() => true))
  );
}

/**
 * AVIF in the background for `fmt_auto`: the first AVIF-capable request gets a stand-in, this job
 * renders the AVIF once (single flight with any on-demand render), and later requests get it.
 */
export class AvifRenders {
  constructor(
    private readonly db: DataSource,
    private readonly variants: VariantsService,
    private readonly queue: JobQueue,
    private readonly limits: GrammarLimits,
  ) {}

  async enqueue(job: AvifJob): Promise<void> {
    const key = variantKey(
      { id: job.assetId, version: job.version, sha256: '' },
      printPlan(job.plan),
      'avif',
    );
    await this.queue.enqueue(
      AVIF_JOB,
      { ...job, plan: { ...job.plan } },
      { jobId: `avif.${job.assetId}.${job.version}.${key.slice(0, 32)}` },
    );
  }

  async run(data: unknown): Promise<void> {
    const d = data as Partial<AvifJob> | null;
    if (
      typeof d !== 'object' ||
      d === null ||
      typeof d.assetId !== 'string' ||
      typeof d.version !== 'number' ||
      typeof d.plan !== 'object'
    ) {
      throw new PermanentJobError('malformed AVIF render job');
    }
    const asset = await this.db.getRepository(AssetEntity).findOneBy({ id: d.assetId });
    if (!asset || asset.deletedAt !== null || asset.version !== d.version) return;
    const plan = canonicalPlan(planFromInput(d.plan as Record<string, unknown>, this.limits));
    try {
      const variant = await this.variants.deliver({
        asset,
        plan: { ...plan, format: 'avif' },
        format: 'avif',
        presetId: d.presetId ?? null,
      });
      await variant.stored;
    } catch (error) {
      if (await movedOn(this.db, error, asset)) return;
      if (
        isDomainError(error) &&
        error.code !== ErrorCode.ServiceUnavailable &&
        error.code !== ErrorCode.Internal
      ) {
        throw new PermanentJobError(`${error.code}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}

import type { DataSource } from 'typeorm';
import { requireScope, type Principal } from '../auth/principal.js';
import { OrganizationEntity, SpaceEntity, type Quota } from '../db/entities/index.js';
import { badInput, DomainError, ErrorCode, forbidden } from '../errors/index.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import type { UsageMeter } from './usage.service.js';

export type QuotaKind = keyof Quota;
export const QUOTA_KINDS: readonly QuotaKind[] = [
  'storedBytes',
  'originals',
  'rendersPerDay',
  'bytesServedPerDay',
];

/** What a space (or an organization) uses now, against its quota. */
export interface QuotaUsage {
  readonly storedBytes: number;
  readonly originals: number;
  readonly rendersToday: number;
  readonly bytesServedToday: number;
}

const TODAY_TTL_MS = 5_000;
/** How long an organization's quota is used as read (and, past that, for as long again while it is read anew). */
const QUOTA_TTL_MS = 5_000;

const secondsToMidnight = (now = new Date()): number => {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
};

const exceeded = (message: string, kind: QuotaKind, limit: number, retryAfterSeconds?: number): DomainError =>
  new DomainError(ErrorCode.QuotaExceeded, message, { details: { quota: kind, limit }, retryAfterSeconds });

/** Checks a quota patch: each value a non-negative integer, or null for unlimited. */
export function checkQuota(input: Readonly<Record<string, number | null | undefined>>): Quota {
  const quota: Quota = {};
  for (const kind of QUOTA_KINDS) {
    const value = input[kind];
    if (value === undefined || value === null) continue;
    if (!Number.isSafeInteger(value) || value < 0)
      throw badInput(`${kind} must be a non-negative integer (got ${value}).`, { field: kind });
    quota[kind] = value;
  }
  return quota;
}

/**
 * Quotas per organization and per space: stored bytes and originals (checked before an upload
 * stores a byte), renders per day (checked before a render; cached variants are still served) and
 * bytes served per day. Daily counts are the registry's flushed usage plus this node's unflushed
 * counts, so a single node refuses exactly at the boundary; other nodes' counts arrive with each
 * flush.
 */
export class QuotaService {
  private readonly today = new Map<
    string,
    { renders: number; bytesServed: number; day: string; until: number }
  >();

  constructor(
    private readonly db: DataSource,
    private readonly tenancy: TenancyService,
    private readonly usage: UsageMeter,
  ) {}

  private readonly orgQuotas = new Map<string, { quota: Quota; until: number }>();
  /** Reads of organizations' quotas under way, one per organization. */
  private readonly reading = new Map<string, Promise<Quota>>();

  /**
   * An organization's quota, cached briefly (it is read on every image request). While the registry
   * cannot be read, the last quota read stands, so cached images keep being served.
   */
  private async organizationQuota(organizationId: string): Promise<Quota> {
    const hit = this.orgQuotas.get(organizationId);
    if (hit && hit.until > Date.now()) return hit.quota;
    let read = this.reading.get(organizationId);
    if (!read) {
      const started = this.readOrganizationQuota(organizationId).then((quota) => {
        // a change made meanwhile (setOrganizationQuota) dropped this read: it is not kept
        if (this.reading.get(organizationId) === started)
          this.orgQuotas.set(organizationId, { quota, until: Date.now() + QUOTA_TTL_MS });
        return quota;
      });
      read = started;
      this.reading.set(organizationId, started);
      void started
        .catch(() => undefined)
        .finally(() => {
          if (this.reading.get(organizationId) === started) this.reading.delete(organizationId);
        });
    }
    try {
      return await read;
    } catch (error) {
      if (hit) return hit.quota;
      throw error;
    }
  }

  private async readOrganizationQuota(organizationId: string): Promise<Quota> {
    const org = await this.db
      .getRepository(OrganizationEntity)
      .findOne({ where: { id: organizationId }, select: { id: true, settings: true } });
    return org?.settings?.quota ?? {};
  }

  /** Stored bytes and originals of a space (or of an organization, when `scope` is organization). */
  private async stored(
    scope: 'space' | 'organization',
    id: string,
  ): Promise<{ storedBytes: number; originals: number }> {
    const column = scope === 'space' ? 'space_id' : 'organization_id';
    const [row] = (await this.db.query(
      `SELECT (SELECT coalesce(sum(bytes), 0) FROM assets WHERE ${column} = $1 AND deleted_at IS NULL)::bigint
            + (SELECT coalesce(sum(v.bytes), 0) FROM variants v ${scope === 'space' ? 'WHERE v.space_id = $1' : 'JOIN spaces s ON s.id = v.space_id WHERE s.organization_id = $1'})::bigint AS stored,
              (SELECT count(*) FROM assets WHERE ${column} = $1 AND deleted_at IS NULL)::bigint AS originals`,
      [id],
    )) as { stored: string; originals: string }[];
    return { storedBytes: Number(row?.stored ?? 0), originals: Number(row?.originals ?? 0) };
  }

  /** Today's renders and bytes served as flushed to the registry. */
  private async readDaily(scope: 'space' | 'organization', id: string, day: string) {
    const column = scope === 'space' ? 'space_id' : 'organization_id';
    const [row] = (await this.db.query(
      `SELECT coalesce(sum(renders), 0)::bigint AS renders, coalesce(sum(bytes_served), 0)::bigint AS bytes FROM usage_daily WHERE ${column} = $1 AND day = $2`,
      [id, day],
    )) as { renders: string; bytes: string }[];
    return {
      renders: Number(row?.renders ?? 0),
      bytesServed: Number(row?.bytes ?? 0),
      day,
      until: Date.now() + TODAY_TTL_MS,
    };
  }

  /**
   * Today's renders and bytes served, flushed (cached briefly) plus this node's unflushed counts.
   * While the registry cannot be read, today's last flushed counts stand.
   */
  private async daily(
    scope: 'space' | 'organization',
    id: string,
  ): Promise<{ renders: number; bytesServed: number }> {
    const day = new Date().toISOString().slice(0, 10);
    const key = `${scope}:${id}`;
    let flushed = this.today.get(key);
    if (!flushed || flushed.until < Date.now() || flushed.day !== day) {
      try {
        flushed = await this.readDaily(scope, id, day);
        this.today.set(key, flushed);
      } catch (error) {
        if (!flushed || flushed.day !== day) throw error;
      }
    }
    const pending = this.usage.pendingToday(scope, id);
    return {
      renders: flushed.renders + pending.renders,
      bytesServed: flushed.bytesServed + pending.bytesServed,
    };
  }

  /** Forgets cached daily counts (after a flush). */
  forgetDaily(): void {
    this.today.clear();
  }

  /** @throws DomainError QUOTA_EXCEEDED when `addBytes` more stored bytes or one more original would pass a quota. */
  async checkStore(
    space: Pick<SpaceEntity, 'id' | 'organizationId' | 'settings'>,
    addBytes: number,
    addOriginals: number,
  ): Promise<void> {
    const scopes: ['space' | 'organization', string, Quota][] = [
      ['space', space.id, space.settings.quota ?? {}],
      ['organization', space.organizationId, await this.organizationQuota(space.organizationId)],
    ];
    for (const [scope, id, quota] of scopes) {
      if (quota.storedBytes === undefined && quota.originals === undefined) continue;
      const now = await this.stored(scope, id);
      if (quota.storedBytes !== undefined && now.storedBytes + addBytes > quota.storedBytes) {
        throw exceeded(
          `The ${scope}'s storage quota of ${quota.storedBytes} bytes would be exceeded (${now.storedBytes} used).`,
          'storedBytes',
          quota.storedBytes,
        );
      }
      if (quota.originals !== undefined && now.originals + addOriginals > quota.originals) {
        throw exceeded(
          `The ${scope}'s quota of ${quota.originals} originals is reached.`,
          'originals',
          quota.originals,
        );
      }
    }
  }

  /** @throws DomainError QUOTA_EXCEEDED (429, Retry-After until midnight UTC) when the daily render quota is used. */
  async checkRender(space: Pick<SpaceEntity, 'id' | 'organizationId' | 'settings'>): Promise<void> {
    await this.checkDaily(space, 'rendersPerDay', (d) => d.renders + 1, 'render quota');
  }

  /**
   * True when neither the space nor its organization (as this node last read it, within the
   * last seconds) has a quota of bytes served: an answer then needs no quota check.
   */
  servesUnmetered(space: Pick<SpaceEntity, 'organizationId' | 'settings'>): boolean {
    if (space.settings.quota?.bytesServedPerDay !== undefined) return false;
    const org = this.orgQuotas.get(space.organizationId);
    if (org === undefined) return false;
    const now = Date.now();
    if (org.until <= now) {
      // Read again in the background; meanwhile, for a few seconds more, the last read answers.
      if (org.until + QUOTA_TTL_MS <= now) return false;
      void this.organizationQuota(space.organizationId).catch(() => undefined);
    }
    return org.quota.bytesServedPerDay === undefined;
  }

  /** @throws DomainError QUOTA_EXCEEDED when serving `bytes` more would pass the daily bytes-served quota. */
  async checkServe(
    space: Pick<SpaceEntity, 'id' | 'organizationId' | 'settings'>,
    bytes: number,
  ): Promise<void> {
    await this.checkDaily(space, 'bytesServedPerDay', (d) => d.bytesServed + bytes, 'quota of bytes served');
  }

  private async checkDaily(
    space: Pick<SpaceEntity, 'id' | 'organizationId' | 'settings'>,
    kind: 'rendersPerDay' | 'bytesServedPerDay',
    after: (d: { renders: number; bytesServed: number }) => number,
    what: string,
  ): Promise<void> {
    const spaceLimit = space.settings.quota?.[kind];
    if (spaceLimit !== undefined && after(await this.daily('space', space.id)) > spaceLimit) {
      throw exceeded(
        `The space's daily ${what} (${spaceLimit}) is used; it renews at midnight UTC.`,
        kind,
        spaceLimit,
        secondsToMidnight(),
      );
    }
    const orgLimit = (await this.organizationQuota(space.organizationId))[kind];
    if (orgLimit !== undefined && after(await this.daily('organization', space.organizationId)) > orgLimit) {
      throw exceeded(
        `The organization's daily ${what} (${orgLimit}) is used; it renews at midnight UTC.`,
        kind,
        orgLimit,
        secondsToMidnight(),
      );
    }
  }

  /** What a space uses now. */
  async usageOf(space: Pick<SpaceEntity, 'id'>): Promise<QuotaUsage> {
    const [stored, daily] = await Promise.all([
      this.stored('space', space.id),
      this.daily('space', space.id),
    ]);
    return { ...stored, rendersToday: daily.renders, bytesServedToday: daily.bytesServed };
  }

  async usageOfOrganization(organizationId: string): Promise<QuotaUsage> {
    const [stored, daily] = await Promise.all([
      this.stored('organization', organizationId),
      this.daily('organization', organizationId),
    ]);
    return { ...stored, rendersToday: daily.renders, bytesServedToday: daily.bytesServed };
  }

  /** Sets a space's quota (admin). */
  async setSpaceQuota(principal: Principal, spaceId: string, quota: Quota): Promise<SpaceEntity> {
    requireScope(principal, 'admin');
    const space = await this.tenancy.space(principal, spaceId);
    if (principal.spaceId !== null) throw forbidden('A key bound to a space cannot change its quota.');
    space.settings = { ...space.settings, quota };
    return this.db.getRepository(SpaceEntity).save(space);
  }

  /** Sets the caller's organization's quota (organization-wide admin). */
  async setOrganizationQuota(principal: Principal, quota: Quota): Promise<OrganizationEntity> {
    requireScope(principal, 'admin');
    if (principal.tenantId !== null)
      throw forbidden('Only an organization-wide key can change the organization quota.');
    const org = await this.tenancy.organization(principal);
    org.settings = { ...(org.settings ?? {}), quota };
    const saved = await this.db.getRepository(OrganizationEntity).save(org);
    this.orgQuotas.delete(org.id);
    this.reading.delete(org.id);
    return saved;
  }
}

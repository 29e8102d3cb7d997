import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { requireScope, type Principal } from '../auth/principal.js';
import { SigningKeyEntity } from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { forbidden } from '../errors/index.js';

/** Longest a node remembers a key; never longer than the grace period (see `cacheMs`). */
const CACHE_TTL_MS = 30_000;

const newKid = (): string => {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  let kid = '';
  for (const b of randomBytes(12)) kid += alphabet[b % 36];
  return kid;
};

/** True when a key may still verify signatures at `now`. */
export const verifies = (key: SigningKeyEntity, now: Date): boolean =>
  key.status === 'active' || (key.status === 'retiring' && key.verifyUntil !== null && key.verifyUntil > now);

/**
 * HMAC keys for private image URLs, one active per organization. Rotation makes a new active key
 * for new URLs; the previous one keeps verifying for the grace period, then stops.
 */
export class SigningKeyService {
  /** Promises, so concurrent first callers (every private URL of a list) share one read. */
  private readonly activeCache = new Map<string, { key: Promise<SigningKeyEntity>; until: number }>();
  private readonly kidCache = new Map<string, { key: SigningKeyEntity | null; until: number }>();

  /**
   * How long a key is remembered: at most the grace period, so that a key rotated through another
   * node stops verifying (and signing) here when its grace ends, not up to 30 s later.
   */
  private readonly cacheMs: number;

  constructor(
    private readonly db: DataSource,
    private readonly graceSeconds: number,
  ) {
    this.cacheMs = Math.min(CACHE_TTL_MS, graceSeconds * 1000);
  }

  /** The organization's active key, created on first use. */
  async active(organizationId: string): Promise<SigningKeyEntity> {
    const cached = this.activeCache.get(organizationId);
    if (cached && cached.until > Date.now()) return cached.key;
    const key = this.readActive(organizationId);
    const entry = { key, until: Date.now() + this.cacheMs };
    this.activeCache.set(organizationId, entry);
    key.catch(() => {
      if (this.activeCache.get(organizationId) === entry) this.activeCache.delete(organizationId);
    });
    return key;
  }

  private async readActive(organizationId: string): Promise<SigningKeyEntity> {
    const repo = this.db.getRepository(SigningKeyEntity);
    let key = await repo.findOneBy({ organizationId, status: 'active' });
    if (!key) {
      const fresh = repo.create({
        id: uuidv7(),
        organizationId,
        kid: newKid(),
        secret: randomBytes(32),
        status: 'active',
        retiredAt: null,
        verifyUntil: null,
      });
      // The partial unique index allows one active key: a concurrent creator wins, we read its key.
      await repo.createQueryBuilder().insert().values(fresh).orIgnore().execute();
      key = await repo.findOneByOrFail({ organizationId, status: 'active' });
    }
    return key;
  }

  /** The key with this kid if it may verify now; `undefined` otherwise. */
  async forVerification(kid: string, now: Date = new Date()): Promise<SigningKeyEntity | undefined> {
    if (!/^[0-9a-z]{8,32}$/.test(kid)) return undefined;
    const cached = this.kidCache.get(kid);
    let key: SigningKeyEntity | null;
    if (cached && cached.until > now.getTime()) {
      key = cached.key;
    } else {
      key = await this.db.getRepository(SigningKeyEntity).findOneBy({ kid });
      this.kidCache.set(kid, { key, until: now.getTime() + this.cacheMs });
    }
    return key && verifies(key, now) ? key : undefined;
  }

  /** Makes a new active key; the old one verifies for the grace period. Admin, organization-wide. */
  async rotate(principal: Principal): Promise<SigningKeyEntity> {
    requireScope(principal, 'admin');
    if (principal.tenantId !== null)
      throw forbidden('Only an organization-wide key can rotate signing keys.');
    const now = new Date();
    const created = await this.db.transaction(async (manager) => {
      await manager
        .createQueryBuilder()
        .update(SigningKeyEntity)
        .set({ status: 'retired' })
        .where('organization_id = :org AND status = :s AND verify_until <= :now', {
          org: principal.organizationId,
          s: 'retiring',
          now,
        })
        .execute();
      await manager.update(
        SigningKeyEntity,
        { organizationId: principal.organizationId, status: 'active' },
        {
          status: 'retiring',
          retiredAt: now,
          verifyUntil: new Date(now.getTime() + this.graceSeconds * 1000),
        },
      );
      const key = manager.create(SigningKeyEntity, {
        id: uuidv7(),
        organizationId: principal.organizationId,
        kid: newKid(),
        secret: randomBytes(32),
        status: 'active',
        retiredAt: null,
        verifyUntil: null,
      });
      await manager.insert(SigningKeyEntity, key);
      return key;
    });
    this.activeCache.delete(principal.organizationId);
    this.kidCache.clear();
    return created;
  }

  /** The organization's keys, newest first (secrets are never exposed by callers). */
  async list(principal: Principal): Promise<SigningKeyEntity[]> {
    requireScope(principal, 'admin');
    return this.db.getRepository(SigningKeyEntity).find({
      where: { organizationId: principal.organizationId },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }
}

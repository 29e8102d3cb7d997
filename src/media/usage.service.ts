import type { DataSource } from 'typeorm';
import { requireScope, type Principal } from '../auth/principal.js';
import { UsageDayEntity } from '../db/entities/index.js';
import { badInput } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';

interface Tally {
  organizationId: string;
  spaceId: string;
  day: string;
  requests: number;
  bytesServed: number;
  renders: number;
  renderMs: number;
  uploads: number;
}

/** The space a count belongs to. */
export interface Metered {
  readonly id: string;
  readonly organizationId: string;
}

let day = '';
let dayStarts = 0;
let dayEnds = 0;
/** Today's date (UTC), `YYYY-MM-DD`; formatted once a day. */
const today = (): string => {
  const now = Date.now();
  if (now >= dayEnds || now < dayStarts) {
    day = new Date(now).toISOString().slice(0, 10);
    dayStarts = Math.floor(now / 86_400_000) * 86_400_000;
    dayEnds = dayStarts + 86_400_000;
  }
  return day;
};

/**
 * Usage metering without a database write per request: counts add up in this process and a
 * periodic flush adds them to `usage_daily` (additive upserts, so any number of nodes agree), with
 * variants' access counts for pruning and a snapshot of the space's stored bytes.
 */
export class UsageMeter {
  /** By day, then by space: a served image finds its tally without making a key. */
  private tallies = new Map<string, Map<string, Tally>>();
  private access = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Counts being written by the current flush: still "pending" for quota checks until it ends. */
  private writing: Tally[] = [];
  private readonly flushed: (() => void)[] = [];

  /** Called after each successful flush (caches of flushed totals can be dropped then). */
  onFlushed(listener: () => void): void {
    this.flushed.push(listener);
  }

  constructor(
    private readonly db: DataSource,
    private readonly tenancy: TenancyService,
    private readonly logger: Logger,
  ) {}

  private tally(space: Metered): Tally {
    const day = today();
    let ofDay = this.tallies.get(day);
    if (!ofDay) this.tallies.set(day, (ofDay = new Map()));
    let tally = ofDay.get(space.id);
    if (!tally) {
      tally = {
        organizationId: space.organizationId,
        spaceId: space.id,
        day,
        requests: 0,
        bytesServed: 0,
        renders: 0,
        renderMs: 0,
        uploads: 0,
      };
      ofDay.set(space.id, tally);
    }
    return tally;
  }

  /** The tallies not flushed yet. */
  private counted(): Tally[] {
    return [...this.tallies.values()].flatMap((ofDay) => [...ofDay.values()]);
  }

  /** An image served (any layer). */
  recordServe(space: Metered, bytes: number, variantKey?: string): void {
    const tally = this.tally(space);
    tally.requests += 1;
    tally.bytesServed += bytes;
    if (variantKey !== undefined) this.access.set(variantKey, (this.access.get(variantKey) ?? 0) + 1);
  }

  recordRender(space: Metered, ms: number): void {
    const tally = this.tally(space);
    tally.renders += 1;
    tally.renderMs += Math.max(0, Math.round(ms));
  }

  recordUpload(space: Metered): void {
    this.tally(space).uploads += 1;
  }

  /** Today's counts of this node not flushed yet, for a space or an organization. */
  pendingToday(scope: 'space' | 'organization', id: string): { renders: number; bytesServed: number } {
    const day = today();
    let renders = 0;
    let bytesServed = 0;
    for (const t of [...this.counted(), ...this.writing]) {
      if (t.day !== day || (scope === 'space' ? t.spaceId : t.organizationId) !== id) continue;
      renders += t.renders;
      bytesServed += t.bytesServed;
    }
    return { renders, bytesServed };
  }

  /** Flushes every `intervalMs` until `stop`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.logger.warn({ err: error }, 'usage flush failed'));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch((error: unknown) => this.logger.warn({ err: error }, 'usage flush failed'));
  }

  /** Adds what this process counted to the registry. Concurrent calls share one flush. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    const tallies = this.counted();
    if (tallies.length === 0 && this.access.size === 0) return;
    const access = [...this.access.entries()];
    this.tallies = new Map();
    this.access = new Map();
    this.writing = tallies;
    this.flushing = this.write(tallies, access)
      .then(() => {
        this.writing = [];
        for (const listener of this.flushed) listener();
      })
      .catch((error: unknown) => {
        // Put the counts back: the next flush tries again.
        for (const t of tallies) {
          const mine = this.tally({ id: t.spaceId, organizationId: t.organizationId });
          if (mine.day === t.day) {
            mine.requests += t.requests;
            mine.bytesServed += t.bytesServed;
            mine.renders += t.renders;
            mine.renderMs += t.renderMs;
            mine.uploads += t.uploads;
          }
        }
        for (const [key, n] of access) this.access.set(key, (this.access.get(key) ?? 0) + n);
        throw error;
      })
      .finally(() => {
        this.flushing = undefined;
        this.writing = [];
      });
    await this.flushing;
  }

  /**
   * One transaction: a flush that fails leaves nothing behind, so putting its counts back adds
   * nothing twice. Rows are written in key order, so that nodes flushing at once wait for each
   * other rather than deadlock (and a deadlock, should one happen, only fails a flush).
   */
  private async write(unordered: Tally[], unorderedAccess: [string, number][]): Promise<void> {
    const tallies = [...unordered].sort((a, b) =>
      a.spaceId === b.spaceId ? a.day.localeCompare(b.day) : a.spaceId.localeCompare(b.spaceId),
    );
    const access = [...unorderedAccess].sort(([a], [b]) => a.localeCompare(b));
    await this.db.transaction(async (manager) => {
      if (tallies.length > 0) {
        await manager.query(
          `INSERT INTO usage_daily (space_id, organization_id, day, requests, bytes_served, renders, render_ms, uploads)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
         ON CONFLICT (space_id, day) DO UPDATE SET
           requests = usage_daily.requests + EXCLUDED.requests,
           bytes_served = usage_daily.bytes_served + EXCLUDED.bytes_served,
           renders = usage_daily.renders + EXCLUDED.renders,
           render_ms = usage_daily.render_ms + EXCLUDED.render_ms,
           uploads = usage_daily.uploads + EXCLUDED.uploads,
           updated_at = now()`,
          [
            tallies.map((t) => t.spaceId),
            tallies.map((t) => t.organizationId),
            tallies.map((t) => t.day),
            tallies.map((t) => t.requests),
            tallies.map((t) => t.bytesServed),
            tallies.map((t) => t.renders),
            tallies.map((t) => t.renderMs),
            tallies.map((t) => t.uploads),
          ],
        );
        for (const t of tallies) {
          await manager.query(
            `UPDATE usage_daily SET stored_bytes =
             (SELECT coalesce(sum(bytes), 0) FROM assets WHERE space_id = $1 AND deleted_at IS NULL) +
             (SELECT coalesce(sum(bytes), 0) FROM variants WHERE space_id = $1)
           WHERE space_id = $1 AND day = $2`,
            [t.spaceId, t.day],
          );
        }
      }
      if (access.length > 0) {
        await manager.query(
          `UPDATE variants v SET access_count = v.access_count + a.n, last_accessed_at = now()
         FROM unnest($1::text[], $2::bigint[]) AS a(key, n) WHERE v.variant_key = a.key`,
          [access.map(([key]) => key), access.map(([, n]) => n)],
        );
      }
    });
  }

  /**
   * Daily usage of a space between two dates (inclusive, UTC), including this node's counts not
   * yet flushed.
   * @throws DomainError BAD_USER_INPUT for a range over 366 days or reversed; NOT_FOUND.
   */
  async usage(principal: Principal, spaceId: string, from: Date, to: Date): Promise<UsageDayEntity[]> {
    requireScope(principal, 'assets:read');
    const space = await this.tenancy.space(principal, spaceId);
    if (to < from) throw badInput('`to` is before `from`.', { field: 'to' });
    if (to.getTime() - from.getTime() > 366 * 86_400_000)
      throw badInput('The range is at most 366 days.', { field: 'to' });
    await this.flush();
    return this.db
      .getRepository(UsageDayEntity)
      .createQueryBuilder('u')
      .where('u.space_id = :space AND u.day BETWEEN :from AND :to', {
        space: space.id,
        from: from.toISOString().slice(0, 10),
        to: to.toISOString().slice(0, 10),
      })
      .orderBy('u.day', 'ASC')
      .getMany();
  }
}

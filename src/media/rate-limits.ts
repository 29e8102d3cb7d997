import type { Counters } from '../cache/cache.js';
import { DomainError, ErrorCode } from '../errors/index.js';

/** The state of one limit after counting a request. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the window resets. */
  readonly resetSeconds: number;
}

export type RateClass = 'graphql' | 'image' | 'render';

/** One limit a request counts against: a class, whose limit applies unless `limit` overrides it. */
export interface LocalHit {
  readonly cls: RateClass;
  readonly identity: string;
  readonly limit?: number;
}

/** What one node knows of one window: the shared count at the last exchange, and its own since. */
interface LocalWindow {
  /** The shared counter's key. */
  readonly key: string;
  shared: number;
  /** Counted here and on its way to the shared counter. */
  sending: number;
  /** Counted here, not sent yet. */
  pending: number;
  resetAt: number;
}

export interface RateLimiterOptions {
  /**
   * Milliseconds between exchanges with the shared counters while a client is below half a
   * large limit; 0 counts every request in the shared counters before answering it.
   */
  readonly batchMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** Limits below this are always counted in the shared counters: exact across nodes. */
const LOCAL_MIN_LIMIT = 1000;

/** Windows a node keeps locally at most; beyond, requests are counted in the shared counters. */
const MAX_LOCAL_WINDOWS = 100_000;

/**
 * Fixed-window rate limits over the shared counters (Redis across nodes, in-process when
 * embedded). A limit of 0 turns the class off. When the counters cannot be reached the request
 * is let through: a cache outage must not take the API down.
 *
 * With `batchMs`, a node counts a client's requests itself while the client is below half a limit
 * of 1,000 or more, and adds them to the shared counter every `batchMs` (its decisions include
 * what every node had sent at the last exchange); from half the limit on, and for smaller limits
 * always, every request is counted in the shared counter before it is answered, so the boundary
 * is exact on one node and, for requests spread over more than `batchMs`, across nodes. A burst
 * faster than that spread over N nodes may pass up to (N − 1) × half the limit more. A hot image
 * thus costs no round trip to Redis.
 */
export class RateLimiter {
  /** Per class, by identity: a hot client's window is found without making its key. */
  private readonly windows: Readonly<Record<RateClass, Map<string, LocalWindow>>> = {
    graphql: new Map(),
    image: new Map(),
    render: new Map(),
  };
  private localWindows = 0;
  private readonly batchMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly counters: Counters,
    private readonly perMinute: Readonly<Record<RateClass, number>>,
    options: RateLimiterOptions = {},
  ) {
    this.batchMs = options.batchMs ?? 0;
    this.onError = options.onError ?? (() => undefined);
    if (this.batchMs > 0) {
      this.timer = setInterval(() => this.sendAll(), this.batchMs);
      this.timer.unref();
    }
  }

  /** Counts one request of `identity` in `cls`; `limit` overrides the configured one (per-space settings). */
  async hit(
    cls: RateClass,
    identity: string,
    limit: number = this.perMinute[cls],
  ): Promise<RateDecision | undefined> {
    if (limit <= 0) return undefined;
    const now = Date.now();
    let local = this.windows[cls].get(identity);
    if (local && now >= local.resetAt) {
      this.forget(cls, identity);
      local = undefined;
    }
    if (local && decidedHere(local, limit)) return countHere(local, limit, now);
    const by = 1 + (local?.pending ?? 0);
    if (local) local.pending = 0;
    try {
      const { value, resetInSeconds } = await this.counters.increment(`rate:${cls}:${identity}`, by, 60);
      if (this.batchMs > 0 && limit >= LOCAL_MIN_LIMIT) this.remember(cls, identity, value, resetInSeconds);
      return decisionOf(value, limit, resetInSeconds);
    } catch (error) {
      this.onError(error);
      return undefined;
    }
  }

  /**
   * Counts one request against each of `hits` when every one of them is decided on this node
   * alone (a client far below a large limit, see `batchMs`), synchronously: the decisions, in
   * order (undefined for a class that is off), all allowed. Undefined, counting nothing, when any
   * of them needs the shared counters: the caller asks `hit` then.
   */
  tryLocal(hits: readonly LocalHit[]): (RateDecision | undefined)[] | undefined {
    const now = Date.now();
    const windows: (LocalWindow | undefined)[] = [];
    for (const { cls, identity, limit = this.perMinute[cls] } of hits) {
      if (limit <= 0) {
        windows.push(undefined);
        continue;
      }
      const local = this.windows[cls].get(identity);
      if (!local || now >= local.resetAt || !decidedHere(local, limit)) return undefined;
      windows.push(local);
    }
    return hits.map(({ cls, limit = this.perMinute[cls] }, i) => {
      const local = windows[i];
      return local && countHere(local, limit, now);
    });
  }

  /** Like `hit`, throwing RATE_LIMITED (with the seconds to wait) when over the limit. */
  async enforce(cls: RateClass, identity: string, limit?: number): Promise<RateDecision | undefined> {
    const decision = await this.hit(cls, identity, limit);
    if (decision && !decision.allowed) throw rateLimited(cls, decision);
    return decision;
  }

  /** Stops exchanging counts; what is pending is sent first. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const all = Object.values(this.windows).flatMap((byIdentity) => [...byIdentity.values()]);
    await Promise.all(all.map((local) => this.send(local)));
    for (const byIdentity of Object.values(this.windows)) byIdentity.clear();
    this.localWindows = 0;
  }

  private remember(cls: RateClass, identity: string, value: number, resetInSeconds: number): void {
    const now = Date.now();
    const local = this.windows[cls].get(identity);
    if (local) {
      local.shared = Math.max(local.shared, value - local.sending);
      return;
    }
    if (this.localWindows >= MAX_LOCAL_WINDOWS) return;
    this.windows[cls].set(identity, {
      key: `rate:${cls}:${identity}`,
      shared: value,
      sending: 0,
      pending: 0,
      resetAt: now + resetInSeconds * 1000,
    });
    this.localWindows += 1;
  }

  private forget(cls: RateClass, identity: string): void {
    if (this.windows[cls].delete(identity)) this.localWindows -= 1;
  }

  private sendAll(): void {
    const now = Date.now();
    for (const [cls, byIdentity] of Object.entries(this.windows) as [RateClass, Map<string, LocalWindow>][])
      for (const [identity, local] of byIdentity) {
        if (now >= local.resetAt) this.forget(cls, identity);
        else if (local.pending > 0 && local.sending === 0) void this.send(local);
      }
  }

  private async send(local: LocalWindow): Promise<void> {
    if (local.pending === 0) return;
    local.sending = local.pending;
    local.pending = 0;
    try {
      const { value } = await this.counters.increment(local.key, local.sending, 60);
      local.sending = 0;
      local.shared = Math.max(local.shared, value);
    } catch (error) {
      local.sending = 0; // lost: the shared count is low by these, never high
      this.onError(error);
    }
  }
}

/** Whether one more request in `local` is decided on this node: a large limit, far from reached. */
function decidedHere(local: LocalWindow, limit: number): boolean {
  return limit >= LOCAL_MIN_LIMIT && (local.shared + local.sending + local.pending + 1) * 2 <= limit;
}

/** Counts one request in `local` (see `decidedHere`). */
function countHere(local: LocalWindow, limit: number, now: number): RateDecision {
  local.pending += 1;
  return decisionOf(local.shared + local.sending + local.pending, limit, (local.resetAt - now) / 1000);
}

function decisionOf(value: number, limit: number, resetInSeconds: number): RateDecision {
  return {
    allowed: value <= limit,
    limit,
    remaining: Math.max(0, limit - value),
    resetSeconds: Math.max(1, Math.ceil(resetInSeconds)),
  };
}

export function rateLimited(cls: RateClass, decision: RateDecision): DomainError {
  const what = cls === 'render' ? 'new renders' : cls === 'image' ? 'image requests' : 'GraphQL requests';
  return new DomainError(
    ErrorCode.RateLimited,
    `Too many ${what}: at most ${decision.limit} a minute. Retry in ${decision.resetSeconds} s.`,
    {
      retryAfterSeconds: decision.resetSeconds,
      details: { limit: decision.limit, window: 60 },
    },
  );
}

/** `RateLimit-*` response headers (IETF draft) of a decision. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
  };
}

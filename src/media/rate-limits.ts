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

/**
 * Fixed-window rate limits over the shared counters (Redis across nodes, in-process when
 * embedded). A limit of 0 turns the class off. When the counters cannot be reached the request
 * is let through: a cache outage must not take the API down.
 */
export class RateLimiter {
  constructor(
    private readonly counters: Counters,
    private readonly perMinute: Readonly<Record<RateClass, number>>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Counts one request of `identity` in `cls`; `limit` overrides the configured one (per-space settings). */
  async hit(
    cls: RateClass,
    identity: string,
    limit: number = this.perMinute[cls],
  ): Promise<RateDecision | undefined> {
    if (limit <= 0) return undefined;
    try {
      const { value, resetInSeconds } = await this.counters.increment(`rate:${cls}:${identity}`, 1, 60);
      return {
        allowed: value <= limit,
        limit,
        remaining: Math.max(0, limit - value),
        resetSeconds: Math.max(1, resetInSeconds),
      };
    } catch (error) {
      this.onError(error);
      return undefined;
    }
  }

  /** Like `hit`, throwing RATE_LIMITED (with the seconds to wait) when over the limit. */
  async enforce(cls: RateClass, identity: string, limit?: number): Promise<RateDecision | undefined> {
    const decision = await this.hit(cls, identity, limit);
    if (decision && !decision.allowed) throw rateLimited(cls, decision);
    return decision;
  }
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

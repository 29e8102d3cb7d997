import type { Counters } from '../cache/cache.js';

/** Longest a generation counter lives without a bump; far longer than any cache entry checked against it. */
const WINDOW_SECONDS = 30 * 86_400;

/**
 * A change counter per organization in the shared state (Redis across nodes, in-process when
 * embedded). Readers cache rows together with the generation they read first; any change in the
 * organization bumps it, so every node sees its cached rows are stale on the next request.
 */
export class Generations {
  constructor(
    private readonly counters: Counters,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** The current generation; a fresh random value when the counters cannot be read (no cache hit then). */
  async current(organizationSlug: string): Promise<string> {
    try {
      return String(await this.counters.peek(`gen:${organizationSlug}`));
    } catch (error) {
      this.onError(error);
      return `unreadable-${Math.random()}`;
    }
  }

  /** Marks everything cached for the organization stale. */
  async bump(organizationSlug: string): Promise<void> {
    try {
      await this.counters.increment(`gen:${organizationSlug}`, 1, WINDOW_SECONDS);
    } catch (error) {
      this.onError(error);
    }
  }
}

import type { Broadcast, Counters } from '../cache/cache.js';

/** Longest a generation counter lives without a bump; far longer than any cache entry checked against it. */
const WINDOW_SECONDS = 30 * 86_400;
const CHANNEL = 'generations';

/**
 * A change counter per organization in the shared state (Redis across nodes, in-process when
 * embedded). Readers cache rows together with the generation they read first; any change in the
 * organization bumps it, so every node sees its cached rows are stale on the next request.
 *
 * Each node keeps the generations it has read, and every bump is broadcast: a node drops its copy
 * when told of a change (or when it may have missed one), so a hot image costs no round trip to
 * Redis while a change still takes effect on every node as soon as the message arrives.
 */
export class Generations {
  private readonly known = new Map<string, string>();
  /** Moves on every change heard of: a read that started before one must not be kept. */
  private epoch = 0;

  constructor(
    private readonly counters: Counters,
    private readonly broadcast: Broadcast,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    broadcast.listen(
      CHANNEL,
      (organizationSlug) => this.forget(organizationSlug),
      () => this.forget(),
    );
  }

  private forget(organizationSlug?: string): void {
    this.epoch += 1;
    if (organizationSlug === undefined) this.known.clear();
    else this.known.delete(organizationSlug);
  }

  /**
   * The current generation when this node knows it without asking (it has read it and has heard of
   * no change since), synchronously; undefined otherwise.
   */
  peek(organizationSlug: string): string | undefined {
    return this.broadcast.listening() ? this.known.get(organizationSlug) : undefined;
  }

  /** The current generation; a fresh random value when the counters cannot be read (no cache hit then). */
  async current(organizationSlug: string): Promise<string> {
    const listening = this.broadcast.listening();
    if (listening) {
      const known = this.known.get(organizationSlug);
      if (known !== undefined) return known;
    }
    const epoch = this.epoch;
    try {
      const value = String(await this.counters.peek(`gen:${organizationSlug}`));
      if (listening && epoch === this.epoch && this.broadcast.listening()) {
        if (this.known.size >= MAX_KNOWN) this.known.clear();
        this.known.set(organizationSlug, value);
      }
      return value;
    } catch (error) {
      this.onError(error);
      return `unreadable-${Math.random()}`;
    }
  }

  /** Marks everything cached for the organization stale, on every node. */
  async bump(organizationSlug: string): Promise<void> {
    this.forget(organizationSlug);
    try {
      await this.counters.increment(`gen:${organizationSlug}`, 1, WINDOW_SECONDS);
      await this.broadcast.publish(CHANNEL, organizationSlug);
    } catch (error) {
      this.onError(error);
    }
  }
}

/** Organizations whose generation a node keeps at once. */
const MAX_KNOWN = 10_000;

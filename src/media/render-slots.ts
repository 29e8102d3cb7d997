import { DomainError, ErrorCode } from '../errors/index.js';

/**
 * Admission control for renders in this process: at most `max` at once, and at most
 * `memoryBudget` bytes of estimated decode memory at once. A render waits for room up to
 * `maxWaitMs`, then is refused with SERVICE_UNAVAILABLE and a `Retry-After`, so overload sheds
 * load instead of piling up memory; a render that alone needs more than the budget is refused
 * with LIMIT_EXCEEDED at once.
 */
export class RenderSlots {
  private active = 0;
  private reserved = 0;
  private readonly waiting: { weight: number; grant: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaitMs: number,
    private readonly memoryBudget = Number.POSITIVE_INFINITY,
    private readonly maxQueue = max * 16,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Bytes of estimated memory held by running renders. */
  get memoryInUse(): number {
    return this.reserved;
  }

  /**
   * Runs `work` once there is room for it.
   * @param weight estimated memory of the render, bytes.
   * @throws DomainError SERVICE_UNAVAILABLE when no room frees in time, LIMIT_EXCEEDED when the
   *   render alone is larger than the budget.
   */
  async run<T>(work: () => Promise<T>, weight = 0): Promise<T> {
    if (weight > this.memoryBudget) {
      throw new DomainError(
        ErrorCode.LimitExceeded,
        `This render would need about ${Math.ceil(weight / 1048576)} MB, more than the ${Math.floor(this.memoryBudget / 1048576)} MB a render may use.`,
        { details: { estimatedBytes: weight, memoryBudget: this.memoryBudget } },
      );
    }
    await this.acquire(weight);
    try {
      return await work();
    } finally {
      this.release(weight);
    }
  }

  private fits(weight: number): boolean {
    return this.active < this.max && (this.active === 0 || this.reserved + weight <= this.memoryBudget);
  }

  private busy(): DomainError {
    return new DomainError(
      ErrorCode.ServiceUnavailable,
      'Too many images are being rendered right now; retry shortly.',
      {
        retryAfterSeconds: Math.max(1, Math.ceil(this.maxWaitMs / 1000)),
      },
    );
  }

  private take(weight: number): void {
    this.active += 1;
    this.reserved += weight;
  }

  private acquire(weight: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(weight)) {
      this.take(weight);
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueue || this.maxWaitMs === 0) return Promise.reject(this.busy());
    return new Promise((resolve, reject) => {
      const entry = {
        weight,
        grant: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(entry);
          if (index !== -1) this.waiting.splice(index, 1);
          reject(this.busy());
        }, this.maxWaitMs),
      };
      this.waiting.push(entry);
    });
  }

  private release(weight: number): void {
    this.active -= 1;
    this.reserved -= weight;
    // First in, first out: a large render at the head is not starved by small ones behind it.
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.weight)) {
      const next = this.waiting.shift()!;
      this.take(next.weight);
      next.grant();
    }
  }
}

import { DomainError, ErrorCode } from '../errors/index.js';

/**
 * Bounds concurrent renders in this process. A render waits for a slot up to `maxWaitMs`, then is
 * refused with SERVICE_UNAVAILABLE and a `Retry-After`, so overload sheds load instead of piling up
 * memory.
 */
export class RenderSlots {
  private active = 0;
  private readonly waiting: { grant: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaitMs: number,
    private readonly maxQueue = max * 16,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `work` in a slot. @throws DomainError SERVICE_UNAVAILABLE when no slot frees in time. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
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

  private acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueue || this.maxWaitMs === 0) return Promise.reject(this.busy());
    return new Promise((resolve, reject) => {
      const entry = {
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

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.active -= 1;
  }
}

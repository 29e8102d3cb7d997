/**
 * Background jobs: one interface, two implementations running the same handlers — BullMQ on
 * Redis (production; workers may run in other processes and machines) and an in-process queue
 * (embedded default). Jobs retry with exponential backoff; a job that keeps failing, or fails in a
 * way retrying cannot fix, ends in the dead-letter list, visible to operators.
 */

/** Options of one job. */
export interface EnqueueOptions {
  /** Idempotency key: while a job with this id exists, enqueueing it again does nothing. */
  readonly jobId?: string;
  /** Start no sooner than this, ms. */
  readonly delayMs?: number;
  /** Tries in all (default from the queue). */
  readonly attempts?: number;
}

/** What a handler knows about the run it is in. */
export interface JobContext {
  readonly jobId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Tries in all: after a failure of try `attempts`, the job goes to the dead letters. */
  readonly attempts: number;
}

export type JobHandler = (data: unknown, context: JobContext) => Promise<void>;

/** A job that ran out of tries or failed permanently. */
export interface DeadJob {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly attempts: number;
  readonly error: string;
  readonly failedAt: Date;
}

export interface QueueCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
}

/** Thrown by a handler when retrying cannot help (a corrupt original): the job goes straight to the dead letters. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export interface JobQueue {
  readonly kind: 'bullmq' | 'memory';
  enqueue(name: string, data: unknown, options?: EnqueueOptions): Promise<void>;
  counts(): Promise<QueueCounts>;
  /** Dead letters, newest first. */
  deadLetters(limit: number): Promise<DeadJob[]>;
  /** Puts a dead job back in the queue. */
  retryDead(id: string): Promise<boolean>;
  /** Runs handlers in this process (the embedded default, or `npm run worker`). */
  startWorker(handlers: Readonly<Record<string, JobHandler>>, concurrency: number): Promise<void>;
  /** Resolves when nothing is waiting, delayed or running (tests, graceful shutdown). */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Backoff before try `attempt + 1`: base × 2^(attempt − 1), capped. */
export const backoffMs = (attempt: number, baseMs: number, capMs = 60_000): number =>
  Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));

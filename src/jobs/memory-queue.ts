import { randomUUID } from 'node:crypto';
import {
  backoffMs,
  PermanentJobError,
  type DeadJob,
  type EnqueueOptions,
  type JobHandler,
  type JobQueue,
  type QueueCounts,
} from './queue.js';

interface Job {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly attempts: number;
  attempt: number;
  runAt: number;
}

export interface MemoryQueueOptions {
  readonly attempts: number;
  readonly backoffBaseMs: number;
  readonly onError?: (error: unknown, job: { id: string; name: string; attempt: number }) => void;
  /** Dead letters kept. */
  readonly keepDead?: number;
}

/** The embedded queue: jobs in this process's memory, the same handlers as the BullMQ workers. */
export class MemoryQueue implements JobQueue {
  readonly kind = 'memory' as const;
  private readonly ready: Job[] = [];
  private readonly delayed = new Map<string, { job: Job; timer: NodeJS.Timeout }>();
  private readonly active = new Map<string, Job>();
  private readonly dead: DeadJob[] = [];
  private handlers: Readonly<Record<string, JobHandler>> | undefined;
  private concurrency = 1;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: MemoryQueueOptions) {}

  private exists(id: string): boolean {
    return this.active.has(id) || this.delayed.has(id) || this.ready.some((j) => j.id === id);
  }

  async enqueue(name: string, data: unknown, options: EnqueueOptions = {}): Promise<void> {
    if (this.closed) throw new Error('queue closed');
    const id = options.jobId ?? randomUUID();
    if (this.exists(id)) return;
    const job: Job = {
      id,
      name,
      data,
      attempts: options.attempts ?? this.options.attempts,
      attempt: 0,
      runAt: Date.now() + (options.delayMs ?? 0),
    };
    this.schedule(job, options.delayMs ?? 0);
  }

  private schedule(job: Job, delayMs: number): void {
    if (delayMs <= 0) {
      this.ready.push(job);
      setImmediate(() => this.pump());
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(job.id);
      this.ready.push(job);
      this.pump();
    }, delayMs);
    timer.unref();
    this.delayed.set(job.id, { job, timer });
  }

  private pump(): void {
    if (!this.handlers || this.closed) return;
    while (this.active.size < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      this.active.set(job.id, job);
      void this.runJob(job);
    }
    this.notifyIdle();
  }

  private async runJob(job: Job): Promise<void> {
    job.attempt += 1;
    const handler = this.handlers?.[job.name];
    try {
      if (!handler) throw new PermanentJobError(`no handler for job "${job.name}"`);
      await handler(job.data, { jobId: job.id, attempt: job.attempt, attempts: job.attempts });
    } catch (error) {
      this.options.onError?.(error, { id: job.id, name: job.name, attempt: job.attempt });
      if (error instanceof PermanentJobError || job.attempt >= job.attempts) {
        this.dead.unshift({
          id: job.id,
          name: job.name,
          data: job.data,
          attempts: job.attempt,
          error: error instanceof Error ? error.message : String(error),
          failedAt: new Date(),
        });
        this.dead.length = Math.min(this.dead.length, this.options.keepDead ?? 1000);
      } else {
        this.active.delete(job.id);
        this.schedule(job, backoffMs(job.attempt, this.options.backoffBaseMs));
        this.pump();
        return;
      }
    }
    this.active.delete(job.id);
    this.pump();
  }

  private notifyIdle(): void {
    if (this.ready.length === 0 && this.active.size === 0 && this.delayed.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  async counts(): Promise<QueueCounts> {
    return {
      waiting: this.ready.length,
      active: this.active.size,
      delayed: this.delayed.size,
      failed: this.dead.length,
    };
  }

  async deadLetters(limit: number): Promise<DeadJob[]> {
    return this.dead.slice(0, limit);
  }

  async retryDead(id: string): Promise<boolean> {
    const index = this.dead.findIndex((d) => d.id === id);
    if (index === -1) return false;
    const [job] = this.dead.splice(index, 1);
    await this.enqueue(job!.name, job!.data, { jobId: job!.id });
    return true;
  }

  async startWorker(handlers: Readonly<Record<string, JobHandler>>, concurrency: number): Promise<void> {
    this.handlers = handlers;
    this.concurrency = Math.max(1, concurrency);
    this.pump();
  }

  async drain(timeoutMs = 30_000): Promise<void> {
    if (this.ready.length === 0 && this.active.size === 0 && this.delayed.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`queue not drained in ${timeoutMs} ms`)), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.ready.length = 0;
    const deadline = Date.now() + 10_000;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}

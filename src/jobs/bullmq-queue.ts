import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import {
  PermanentJobError,
  type DeadJob,
  type EnqueueOptions,
  type JobHandler,
  type JobQueue,
  type QueueCounts,
} from './queue.js';

export interface BullQueueOptions {
  readonly redisUrl: string;
  /** Key prefix (BullMQ adds `:{queue}:…`). */
  readonly prefix: string;
  readonly queueName?: string;
  readonly attempts: number;
  readonly backoffBaseMs: number;
  readonly onError?: (error: unknown, job: { id: string; name: string; attempt: number }) => void;
}

const connectionOf = (url: string): ConnectionOptions => {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
};

/** Jobs in Redis through BullMQ; workers in any process that runs `startWorker` (see `npm run worker`). */
export class BullQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connection: ConnectionOptions;
  private readonly name: string;

  constructor(private readonly options: BullQueueOptions) {
    this.connection = connectionOf(options.redisUrl);
    this.name = options.queueName ?? 'tessera';
    this.queue = new Queue(this.name, {
      connection: this.connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffBaseMs },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { count: 10_000 },
      },
    });
    this.queue.on('error', () => undefined);
  }

  async enqueue(name: string, data: unknown, options: EnqueueOptions = {}): Promise<void> {
    await this.queue.add(name, data, {
      // BullMQ reserves ':' in custom ids.
      jobId: options.jobId?.replaceAll(':', '.'),
      delay: options.delayMs,
      attempts: options.attempts,
    });
  }

  async counts(): Promise<QueueCounts> {
    const c = await this.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'prioritized',
      'waiting-children',
    );
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  async deadLetters(limit: number): Promise<DeadJob[]> {
    const jobs = await this.queue.getFailed(0, Math.max(0, limit - 1));
    return jobs.map((job) => ({
      id: job.id ?? '',
      name: job.name,
      data: job.data as unknown,
      attempts: job.attemptsMade,
      error: job.failedReason ?? '',
      failedAt: new Date(job.finishedOn ?? job.timestamp),
    }));
  }

  async retryDead(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed');
    return true;
  }

  async startWorker(handlers: Readonly<Record<string, JobHandler>>, concurrency: number): Promise<void> {
    this.worker = new Worker(
      this.name,
      async (job: Job) => {
        const handler = handlers[job.name];
        if (!handler) throw new UnrecoverableError(`no handler for job "${job.name}"`);
        try {
          await handler(job.data as unknown, {
            jobId: job.id ?? '',
            attempt: job.attemptsMade + 1,
            attempts: job.opts.attempts ?? this.options.attempts,
          });
        } catch (error) {
          this.options.onError?.(error, { id: job.id ?? '', name: job.name, attempt: job.attemptsMade + 1 });
          if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
          throw error;
        }
      },
      {
        connection: this.connection,
        prefix: this.options.prefix,
        concurrency: Math.max(1, concurrency),
        lockDuration: 60_000,
        stalledInterval: 15_000,
        maxStalledCount: 3,
      },
    );
    this.worker.on('error', () => undefined);
    await this.worker.waitUntilReady();
  }

  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.counts();
      if (c.waiting + c.active + c.delayed === 0) return;
      if (Date.now() > deadline) throw new Error(`queue not drained in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}

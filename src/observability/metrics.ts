import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Readable } from 'node:stream';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PresignPostOptions,
  PresignedPost,
  WriteOptions,
} from '../storage/object-store.js';

/** A worker's request for the metrics of every worker, and the primary's answer. */
export interface MetricsRequest {
  readonly type: 'tessera:metrics';
  readonly id: number;
}
export interface MetricsAnswer extends MetricsRequest {
  readonly text?: string;
  readonly error?: string;
}

export const isMetricsRequest = (message: unknown): message is MetricsRequest =>
  typeof message === 'object' &&
  message !== null &&
  (message as { type?: unknown }).type === 'tessera:metrics' &&
  typeof (message as { id?: unknown }).id === 'number';

/** Most distinct spaces given a label of their own; the rest are counted as `other`. */
const MAX_SPACE_LABELS = 200;

/**
 * Prometheus metrics: HTTP duration by route and status, renders by format, cache hits by layer,
 * queue depth, storage operations, and per-space image traffic with bounded label cardinality.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly renderDuration: Histogram<'format'>;
  readonly cacheHits: Counter<'layer'>;
  readonly storageOps: Histogram<'op' | 'outcome'>;
  readonly spaceRequests: Counter<'space'>;
  readonly spaceBytes: Counter<'space'>;
  private readonly spaces = new Set<string>();

  /**
   * @param clustered this process is one of several workers of a server: `text()` answers for all
   *   of them (the primary gathers and adds up every worker's registry).
   */
  constructor(
    queueCounts: () => Promise<{ waiting: number; active: number; delayed: number; failed: number }>,
    private readonly clustered = false,
  ) {
    if (clustered) {
      AggregatorRegistry.setRegistries([this.registry]);
      // answers the primary's requests for this worker's registry
      new AggregatorRegistry();
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
    this.httpDuration = new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP request duration by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.renderDuration = new Histogram({
      name: 'tessera_render_duration_seconds',
      help: 'Variant render duration by output format.',
      labelNames: ['format'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [this.registry],
    });
    this.cacheHits = new Counter({
      name: 'tessera_variant_answers_total',
      help: 'Variant answers by the layer that answered (memory, redis, registry, render).',
      labelNames: ['layer'],
      registers: [this.registry],
    });
    this.storageOps = new Histogram({
      name: 'tessera_storage_operation_duration_seconds',
      help: 'Object storage operations by kind and outcome.',
      labelNames: ['op', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.spaceRequests = new Counter({
      name: 'tessera_space_image_requests_total',
      help: `Image requests per space (the first ${MAX_SPACE_LABELS} spaces seen by this process; others as "other").`,
      labelNames: ['space'],
      registers: [this.registry],
    });
    this.spaceBytes = new Counter({
      name: 'tessera_space_image_bytes_total',
      help: 'Image bytes served per space (same labels as requests).',
      labelNames: ['space'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'tessera_queue_jobs',
      help: 'Background jobs by state.',
      labelNames: ['state'],
      registers: [this.registry],
      // every worker reads the same queue
      aggregator: 'first',
      async collect() {
        try {
          const c = await queueCounts();
          for (const [state, n] of Object.entries(c)) this.set({ state }, n);
        } catch {
          // the queue is unreachable: leave the last values
        }
      },
    });
  }

  /**
   * A gauge whose values are read at scrape time (quota limits and use, say). `read` returns label
   * sets with values; failures leave the previous values.
   */
  addGauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Promise<{ labels: Record<string, string>; value: number }[]>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      // read from shared state: every worker reads the same values
      aggregator: 'first',
      async collect() {
        try {
          const rows = await read();
          this.reset();
          for (const row of rows) this.set(row.labels, row.value);
        } catch {
          // keep the last values
        }
      },
    });
  }

  /** A bounded label for a space. */
  spaceLabel(spaceId: string): string {
    if (this.spaces.has(spaceId)) return spaceId;
    if (this.spaces.size < MAX_SPACE_LABELS) {
      this.spaces.add(spaceId);
      return spaceId;
    }
    return 'other';
  }

  recordImage(spaceId: string, bytes: number): void {
    const space = this.spaceLabel(spaceId);
    this.spaceRequests.inc({ space });
    if (bytes > 0) this.spaceBytes.inc({ space }, bytes);
  }

  /**
   * The Prometheus text of this process, or of every worker of the server when clustered.
   * @throws Error when the primary does not answer within 5 s.
   */
  async text(): Promise<string> {
    return this.clustered ? fromPrimary() : this.registry.metrics();
  }
}

let asked = 0;
/** Requests sent to the primary, by id: each ends with its answer, or with none after 5 s. */
const waiting = new Map<number, (answer: MetricsAnswer | undefined) => void>();

/** Asks the primary process for the metrics of every worker. */
function fromPrimary(): Promise<string> {
  const send = process.send?.bind(process);
  if (!send) return Promise.reject(new Error('not a worker process: no primary to ask'));
  if (asked === 0)
    process.on('message', (message: unknown) => {
      if (isMetricsRequest(message)) waiting.get(message.id)?.(message as MetricsAnswer);
    });
  asked += 1;
  const id = asked;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => end(undefined), 5_000);
    const end = (answer: MetricsAnswer | undefined): void => {
      clearTimeout(timer);
      waiting.delete(id);
      if (answer?.text !== undefined) resolve(answer.text);
      else
        reject(
          new Error(
            `metrics of the workers: ${answer ? (answer.error ?? 'no answer') : 'the primary did not answer in 5 s'}`,
          ),
        );
    };
    waiting.set(id, end);
    const request: MetricsRequest = { type: 'tessera:metrics', id };
    send(request);
  });
}

/** An object store that times each operation into the metrics. */
export function measuredStore(store: ObjectStore, metrics: Metrics): ObjectStore {
  const time = async <T>(op: string, work: () => Promise<T>): Promise<T> => {
    const end = metrics.storageOps.startTimer({ op });
    try {
      const result = await work();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      throw error;
    }
  };
  return {
    kind: store.kind,
    stat: (key: string) => time('stat', () => store.stat(key)),
    read: (key: string, range?: ByteRange): Promise<Readable> => time('read', () => store.read(key, range)),
    readBuffer: (key: string, maxBytes?: number) => time('read', () => store.readBuffer(key, maxBytes)),
    write: (key: string, body: Readable | Buffer, options: WriteOptions): Promise<ObjectInfo> =>
      time('write', () => store.write(key, body, options)),
    delete: (key: string) => time('delete', () => store.delete(key)),
    deleteMany: (keys: readonly string[]) => time('delete', () => store.deleteMany(keys)),
    list: (prefix: string) => store.list(prefix),
    presignPost: (key: string, options: PresignPostOptions): Promise<PresignedPost> =>
      time('presign', () => store.presignPost(key, options)),
    check: () => store.check(),
  };
}

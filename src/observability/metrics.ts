import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Metric,
} from 'prom-client';
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

/** One label set of a histogram, bound once: an observation is a bucket search and two additions. */
export interface HistogramCell {
  observe(value: number): void;
}

type HttpLabel = 'method' | 'route' | 'status';

interface Cell extends HistogramCell {
  readonly labels: Readonly<Record<HttpLabel, string>>;
  /** Observations per bucket (not cumulative); the last counts those above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram of label sets bound once (`cell`), read in prom-client's format (so that the
 * registry prints it and a cluster's primary adds the workers' up as it does prom-client's own).
 * An observation makes no label object, hash or validation: the image endpoint observes every
 * answer, tens of thousands a second.
 */
export class BoundHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  /** The cell of a label set, made on first use. */
  cell(labels: Readonly<Record<HttpLabel, string>>): HistogramCell {
    const key = `${labels.method}\u0000${labels.route}\u0000${labels.status}`;
    let cell = this.cells.get(key);
    if (!cell) {
      const { bounds } = this;
      const counts = new Float64Array(bounds.length + 1);
      const made: Cell = {
        labels: { method: labels.method, route: labels.route, status: labels.status },
        counts,
        sum: 0,
        count: 0,
        observe(value: number) {
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i += 1;
          counts[i]! += 1;
          made.sum += value;
          made.count += 1;
        },
      };
      cell = made;
      this.cells.set(key, cell);
    }
    return cell;
  }

  observe(labels: Readonly<Record<HttpLabel, string>>, value: number): void {
    this.cell(labels).observe(value);
  }

  /** The samples, as prom-client's histogram gives them: cumulative buckets, `+Inf`, sum, count. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = [];
    for (const { labels, counts, sum, count } of this.cells.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += counts[i]!;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.cells.clear();
  }
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** Counts of a labelled counter kept as plain numbers, added to the counter when it is read. */
class Pending<K> {
  private readonly counts = new Map<K, number>();

  add(key: K, n: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** Hands every count over (zero counts are skipped) and starts again from nothing. */
  drain(into: (key: K, n: number) => void): void {
    for (const [key, n] of this.counts) if (n > 0) into(key, n);
    this.counts.clear();
  }
}

/**
 * Prometheus metrics: HTTP duration by route and status, renders by format, cache hits by layer,
 * queue depth, storage operations, and per-space image traffic with bounded label cardinality.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: BoundHistogram;
  readonly renderDuration: Histogram<'format'>;
  readonly storageOps: Histogram<'op' | 'outcome'>;
  private readonly spaces = new Set<string>();
  private readonly pendingAnswers = new Pending<string>();
  private readonly pendingRequests = new Pending<string>();
  private readonly pendingBytes = new Pending<string>();

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
    this.httpDuration = new BoundHistogram(
      'tessera_http_request_duration_seconds',
      'HTTP request duration by route and status.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    // read by the registry (and a cluster's primary) through `get`, as prom-client's own metrics
    this.registry.registerMetric(this.httpDuration as unknown as Metric);
    const { pendingAnswers, pendingRequests, pendingBytes } = this;
    this.renderDuration = new Histogram({
      name: 'tessera_render_duration_seconds',
      help: 'Variant render duration by output format.',
      labelNames: ['format'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [this.registry],
    });
    new Counter({
      name: 'tessera_variant_answers_total',
      help: 'Variant answers by the layer that answered (memory, redis, registry, render).',
      labelNames: ['layer'],
      registers: [this.registry],
      collect() {
        pendingAnswers.drain((layer, n) => this.inc({ layer }, n));
      },
    });
    this.storageOps = new Histogram({
      name: 'tessera_storage_operation_duration_seconds',
      help: 'Object storage operations by kind and outcome.',
      labelNames: ['op', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    new Counter({
      name: 'tessera_space_image_requests_total',
      help: `Image requests per space (the first ${MAX_SPACE_LABELS} spaces seen by this process; others as "other").`,
      labelNames: ['space'],
      registers: [this.registry],
      collect() {
        pendingRequests.drain((space, n) => this.inc({ space }, n));
      },
    });
    new Counter({
      name: 'tessera_space_image_bytes_total',
      help: 'Image bytes served per space (same labels as requests).',
      labelNames: ['space'],
      registers: [this.registry],
      collect() {
        pendingBytes.drain((space, n) => this.inc({ space }, n));
      },
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

  /**
   * An image answered for a space, of `bytes` (0: a 304 or a HEAD). Counted as plain numbers and
   * added to the counters when they are read, as `answered`.
   */
  recordImage(spaceId: string, bytes: number): void {
    const space = this.spaceLabel(spaceId);
    this.pendingRequests.add(space, 1);
    if (bytes > 0) this.pendingBytes.add(space, bytes);
  }

  /** A variant answered, by the layer that answered it (`tessera_variant_answers_total`). */
  answered(layer: string): void {
    this.pendingAnswers.add(layer, 1);
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

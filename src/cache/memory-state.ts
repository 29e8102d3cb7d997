import { randomUUID } from 'node:crypto';
import type { HeldLock, SharedState } from './cache.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/** The embedded implementation: one process, nothing to run. Expired entries are swept lazily. */
export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  private readonly bytes = new Map<string, Entry<Buffer>>();
  private readonly locks = new Map<string, Entry<string>>();
  private readonly counters = new Map<string, Entry<number>>();
  private readonly listeners = new Map<string, ((message: string) => void)[]>();
  private sweeps = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private live<T>(map: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  private maybeSweep(): void {
    this.sweeps += 1;
    if (this.sweeps % 1000 !== 0) return;
    const now = this.now();
    for (const map of [this.bytes, this.locks, this.counters] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.live(this.bytes, key)?.value;
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    this.maybeSweep();
    this.bytes.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async delete(key: string): Promise<void> {
    this.bytes.delete(key);
  }

  async tryAcquire(key: string, ttlMs: number): Promise<HeldLock | undefined> {
    this.maybeSweep();
    if (this.live(this.locks, key)) return undefined;
    const token = randomUUID();
    this.locks.set(key, { value: token, expiresAt: this.now() + ttlMs });
    return {
      key,
      release: async () => {
        if (this.locks.get(key)?.value === token) this.locks.delete(key);
      },
    };
  }

  async increment(
    key: string,
    by: number,
    windowSeconds: number,
  ): Promise<{ value: number; resetInSeconds: number }> {
    this.maybeSweep();
    const now = this.now();
    const entry = this.live(this.counters, key) ?? { value: 0, expiresAt: now + windowSeconds * 1000 };
    entry.value += by;
    this.counters.set(key, entry);
    return { value: entry.value, resetInSeconds: Math.max(0, Math.ceil((entry.expiresAt - now) / 1000)) };
  }

  async peek(key: string): Promise<number> {
    return this.live(this.counters, key)?.value ?? 0;
  }

  listening(): boolean {
    return true;
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const listener of this.listeners.get(channel) ?? []) listener(message);
  }

  listen(channel: string, onMessage: (message: string) => void): void {
    const list = this.listeners.get(channel) ?? [];
    list.push(onMessage);
    this.listeners.set(channel, list);
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    this.bytes.clear();
    this.locks.clear();
    this.counters.clear();
    this.listeners.clear();
  }
}

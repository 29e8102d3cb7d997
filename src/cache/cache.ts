/**
 * Shared state across requests and nodes: a byte cache, locks with expiry, and counters. One
 * interface, two implementations: Redis (production, shared by every node) and in-process
 * (embedded default, one node).
 */

/** Bytes by key, with a time to live. */
export interface ByteCache {
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A held lock; `release` is safe to call twice and never releases someone else's lock. */
export interface HeldLock {
  readonly key: string;
  release(): Promise<void>;
}

/** Mutual exclusion with expiry: a crashed holder's lock frees itself after `ttlMs`. */
export interface LockManager {
  /** Takes the lock if free; `undefined` when another holder has it. */
  tryAcquire(key: string, ttlMs: number): Promise<HeldLock | undefined>;
}

/** Fixed-window counters, for rate limits and metering. */
export interface Counters {
  /** Adds `by` to the counter and returns the new value; the window starts at the first increment. */
  increment(
    key: string,
    by: number,
    windowSeconds: number,
  ): Promise<{ value: number; resetInSeconds: number }>;
  /** The counter's value now (0 when absent or expired). */
  peek(key: string): Promise<number>;
}

/** Short messages to every node (Redis pub/sub across nodes; in-process when embedded). */
export interface Broadcast {
  /** True while messages are being received; when false, some may be missed. */
  listening(): boolean;
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `onMessage` with each message on `channel`, and `onGap` whenever messages may have
   * been missed (the connection was lost or came back).
   */
  listen(channel: string, onMessage: (message: string) => void, onGap: () => void): void;
}

/** Everything the cache layer offers, plus its health. */
export interface SharedState extends ByteCache, LockManager, Counters, Broadcast {
  readonly kind: 'redis' | 'memory';
  check(): Promise<void>;
  close(): Promise<void>;
}

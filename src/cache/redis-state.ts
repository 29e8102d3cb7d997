import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { HeldLock, SharedState } from './cache.js';

/** The scripts below, sent once and then called by digest (EVALSHA). */
interface ScriptedRedis extends Redis {
  tesseraRelease(key: string, token: string): Promise<number>;
  tesseraIncrement(key: string, by: number, windowMs: number): Promise<[number, number]>;
}

/** Deletes the lock only if it still holds our token (never someone else's lock after expiry). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** INCRBY that starts the window's expiry on first use; returns value and remaining ms. */
const INCREMENT = `local v = redis.call('incrby', KEYS[1], ARGV[1])
if v == tonumber(ARGV[1]) then redis.call('pexpire', KEYS[1], ARGV[2]) end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then redis.call('pexpire', KEYS[1], ARGV[2]) ttl = tonumber(ARGV[2]) end
return {v, ttl}`;

export interface RedisStateOptions {
  readonly url: string;
  /** Prefix of every key. */
  readonly prefix: string;
}

/** Longest a command may take, ms: a Redis that hangs must not hold requests up. */
const COMMAND_TIMEOUT_MS = 2000;

/** Redis is not connected (it was, and the connection is being retried): callers fall back at once. */
export class CacheUnavailableError extends Error {
  constructor() {
    super('Redis is not connected.');
    this.name = 'CacheUnavailableError';
  }
}

/**
 * Shared state in Redis, for several nodes. Values are raw bytes (no base64). Commands sent before
 * the first connection wait for it; once connected, a lost connection makes commands fail at once
 * (`CacheUnavailableError`) until it is back, instead of each waiting through reconnection attempts:
 * every caller treats the cache as optional and carries on without it.
 */
export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  readonly client: ScriptedRedis;
  private readonly prefix: string;
  private connectedOnce = false;
  private readonly url: string;
  /** The pub/sub connection, opened by the first `listen`. */
  private subscriber: Redis | undefined;
  private subscribed = false;
  private readonly channels = new Map<string, { onMessage: (m: string) => void; onGap: () => void }[]>();

  constructor(options: RedisStateOptions) {
    this.prefix = options.prefix;
    this.url = options.url;
    const client = new Redis(options.url, {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      connectTimeout: 5000,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // commands issued together (a cache read with a lock, a cache write with a release) go in one write
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    client.defineCommand('tesseraRelease', { numberOfKeys: 1, lua: RELEASE });
    client.defineCommand('tesseraIncrement', { numberOfKeys: 1, lua: INCREMENT });
    this.client = client as ScriptedRedis;
    // Errors surface through commands; an unhandled 'error' event would crash the process.
    this.client.on('error', () => undefined);
    this.client.on('ready', () => {
      this.connectedOnce = true;
    });
  }

  /** @throws CacheUnavailableError while a lost connection is being retried. */
  private connected(): void {
    if (this.connectedOnce && this.client.status !== 'ready') throw new CacheUnavailableError();
  }

  /** The key with the prefix, for a command about to be sent. @throws CacheUnavailableError */
  private k(key: string): string {
    this.connected();
    return `${this.prefix}${key}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return (await this.client.getBuffer(this.k(key))) ?? undefined;
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    await this.client.set(this.k(key), value, 'EX', Math.max(1, Math.round(ttlSeconds)));
  }

  async delete(key: string): Promise<void> {
    await this.client.del(this.k(key));
  }

  async tryAcquire(key: string, ttlMs: number): Promise<HeldLock | undefined> {
    const token = randomUUID();
    const ok = await this.client.set(this.k(key), token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
    if (ok !== 'OK') return undefined;
    let released = false;
    return {
      key,
      release: async () => {
        if (released) return;
        released = true;
        await this.client.tesseraRelease(this.k(key), token);
      },
    };
  }

  async increment(
    key: string,
    by: number,
    windowSeconds: number,
  ): Promise<{ value: number; resetInSeconds: number }> {
    const [value, ttlMs] = await this.client.tesseraIncrement(this.k(key), by, windowSeconds * 1000);
    return { value, resetInSeconds: Math.max(0, Math.ceil(ttlMs / 1000)) };
  }

  async peek(key: string): Promise<number> {
    return Number((await this.client.get(this.k(key))) ?? 0);
  }

  listening(): boolean {
    return this.subscribed && this.subscriber?.status === 'ready';
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.k(`channel:${channel}`), message);
  }

  listen(channel: string, onMessage: (message: string) => void, onGap: () => void): void {
    const name = `${this.prefix}channel:${channel}`;
    const list = this.channels.get(name) ?? [];
    list.push({ onMessage, onGap });
    this.channels.set(name, list);
    const subscriber = this.subscriber ?? this.openSubscriber();
    this.subscribed = false;
    subscriber.subscribe(...this.channels.keys()).then(
      () => {
        this.subscribed = true;
        this.gap();
      },
      () => undefined, // retried by the reconnection below
    );
  }

  private gap(): void {
    for (const list of this.channels.values()) for (const l of list) l.onGap();
  }

  private openSubscriber(): Redis {
    const subscriber = new Redis(this.url, {
      connectionName: `${this.prefix.replace(/[^\x21-\x7e]/g, '_')}broadcast`,
      maxRetriesPerRequest: null,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    subscriber.on('error', () => undefined);
    // A lost connection may have missed messages: listeners drop what they cached, and again
    // once ioredis has subscribed anew (`ready` comes after its resubscription).
    subscriber.on('close', () => {
      this.subscribed = false;
      this.gap();
    });
    subscriber.on('ready', () => {
      if (this.channels.size === 0) return;
      this.subscribed = true;
      this.gap();
    });
    subscriber.on('message', (channel: string, message: string) => {
      for (const l of this.channels.get(channel) ?? []) l.onMessage(message);
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  async check(): Promise<void> {
    this.connected();
    const pong = await this.client.ping();
    if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.client.disconnect();
  }
}

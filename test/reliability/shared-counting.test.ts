/**
 * Rate limits and change generations on several nodes sharing one Redis (and on the in-process
 * state): small limits are counted in Redis request by request, exact across nodes; large ones
 * are counted by each node while the client is far below them and exchanged with Redis, exact on
 * one node and bounded across nodes; a change bumped on one node is seen by the others as soon as
 * its message arrives, without a Redis read per request.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryState } from '../../src/cache/memory-state.js';
import { RedisState } from '../../src/cache/redis-state.js';
import { Generations } from '../../src/media/generations.js';
import { RateLimiter } from '../../src/media/rate-limits.js';
import { describeWith, testServices } from '../support/services.js';

const LIMITS = { graphql: 0, image: 40, render: 2000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Hits `count` times on `limiter`, returning the decisions' (allowed, remaining). */
async function hits(
  limiter: RateLimiter,
  identity: string,
  count: number,
  cls: 'image' | 'render' = 'image',
): Promise<[boolean, number][]> {
  const out: [boolean, number][] = [];
  for (let i = 0; i < count; i += 1) {
    const d = await limiter.hit(cls, identity);
    out.push([d!.allowed, d!.remaining]);
  }
  return out;
}

describe('rate limiter on the in-process state', () => {
  it('counts exactly: remaining goes down by one per request and the request past the limit is refused', async () => {
    const limiter = new RateLimiter(new MemoryState(), LIMITS);
    const seen = await hits(limiter, 'ip:a', 41);
    expect(seen.slice(0, 40).map(([ok]) => ok)).toEqual(Array(40).fill(true));
    expect(seen.map(([, remaining]) => remaining)).toEqual([
      ...Array.from({ length: 40 }, (_, i) => 39 - i),
      0,
    ]);
    expect(seen[40]![0]).toBe(false);
    await limiter.close();
  });
});

describeWith(['redis'], 'rate limiter and generations on nodes sharing Redis', () => {
  const states: RedisState[] = [];
  const limiters: RateLimiter[] = [];
  const node = (): RedisState => {
    const state = new RedisState({ url: testServices.redisUrl!, prefix: `test:${randomUUID()}:` });
    states.push(state);
    return state;
  };
  let prefix: string;
  const shared = (): RedisState => {
    const state = new RedisState({ url: testServices.redisUrl!, prefix });
    states.push(state);
    return state;
  };
  const limiterOn = (state: RedisState): RateLimiter => {
    const limiter = new RateLimiter(state, LIMITS, { batchMs: 50 });
    limiters.push(limiter);
    return limiter;
  };

  /** Ids of the broadcast connections of this test's nodes (their key prefix names them). */
  const subscriberIds = async (state: RedisState): Promise<string[]> =>
    String(await state.client.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
      .split('\n')
      .filter((line) => line.includes(` name=${prefix}broadcast `))
      .map((line) => /\bid=(\d+)/.exec(line)![1]!);

  beforeAll(() => {
    prefix = `test:${randomUUID()}:`;
  });
  afterEach(async () => {
    for (const l of limiters.splice(0)) await l.close();
  });
  afterAll(async () => {
    const cleaner = node();
    const keys = await cleaner.client.keys(`${prefix}*`);
    if (keys.length > 0) await cleaner.client.del(...keys);
    for (const s of states) await s.close();
  });

  it('small limit, three nodes: the boundary is exact whatever node each request reaches', async () => {
    const nodes = [limiterOn(shared()), limiterOn(shared()), limiterOn(shared())];
    const id = `ip:${randomUUID()}`;
    const allowed: boolean[] = [];
    for (let i = 0; i < 46; i += 1) allowed.push((await nodes[i % 3]!.hit('image', id))!.allowed);
    expect(allowed).toEqual([...Array(40).fill(true), ...Array(6).fill(false)]);
    const burst = `ip:${randomUUID()}`;
    const decisions = await Promise.all(
      Array.from({ length: 90 }, (_, i) => nodes[i % 3]!.hit('image', burst)),
    );
    expect(decisions.filter((d) => d!.allowed)).toHaveLength(40);
  });

  it('large limit, one node: decisions are exact, and the counts reach Redis for the other nodes', async () => {
    const state = shared();
    const limiter = limiterOn(state);
    const id = `ip:${randomUUID()}`;
    const seen = await hits(limiter, id, 2010, 'render');
    expect(seen.map(([ok]) => ok)).toEqual([...Array(2000).fill(true), ...Array(10).fill(false)]);
    expect(seen.map(([, r]) => r)).toEqual([
      ...Array.from({ length: 2000 }, (_, i) => 1999 - i),
      ...Array(10).fill(0),
    ]);
    await sleep(200);
    expect(await state.peek(`rate:render:${id}`)).toBe(2010);
    expect((await limiterOn(shared()).hit('render', id))!.allowed).toBe(false);
  });

  it('large limit, three nodes: counts are exchanged, and a burst passes at most (N − 1) halves more', async () => {
    const nodes = [limiterOn(shared()), limiterOn(shared()), limiterOn(shared())];
    const spread = `ip:${randomUUID()}`;
    const allowed: boolean[] = [];
    for (let i = 0; i < 2400; i += 1) {
      allowed.push((await nodes[i % 3]!.hit('render', spread))!.allowed);
      if (i % 90 === 89) await sleep(120); // more than two exchanges between rounds
    }
    // Past half the limit every node asks Redis: at most one round's worth passes over.
    expect(allowed.filter(Boolean).length).toBeGreaterThanOrEqual(2000);
    expect(allowed.filter(Boolean).length).toBeLessThanOrEqual(2090);
    expect(allowed.slice(2090).every((ok) => !ok)).toBe(true);

    const burst = `ip:${randomUUID()}`;
    const decisions = await Promise.all(
      Array.from({ length: 4500 }, (_, i) => nodes[i % 3]!.hit('render', burst)),
    );
    const passed = decisions.filter((d) => d!.allowed).length;
    expect(passed).toBeGreaterThanOrEqual(2000);
    expect(passed).toBeLessThanOrEqual(2000 + 2 * 1000);
    await sleep(200);
    expect(await shared().peek(`rate:render:${burst}`)).toBe(4500);
    expect((await nodes[0]!.hit('render', burst))!.allowed).toBe(false);
  });

  it('a generation bumped on one node is seen by the other at once, and cached between changes', async () => {
    const [a, b] = [shared(), shared()];
    const ga = new Generations(a, a);
    const gb = new Generations(b, b);
    const org = `org-${randomUUID()}`;
    for (let i = 0; i < 50 && !(a.listening() && b.listening()); i += 1) await sleep(20);
    await sleep(100); // the subscriptions settle (their first confirmation drops what was known)
    expect([a.listening(), b.listening()]).toEqual([true, true]);
    const before = await gb.current(org);
    expect(await gb.current(org)).toBe(before);
    await ga.bump(org);
    await sleep(20);
    const after = await gb.current(org);
    expect(after).not.toBe(before);
    expect(await ga.current(org)).toBe(after);
    // Cached: a change written behind the broadcast's back is not read again...
    await a.increment(`gen:${org}`, 1, 60);
    expect(await gb.current(org)).toBe(after);
    // ...until the next broadcast change.
    await ga.bump(org);
    await sleep(20);
    expect(Number(await gb.current(org))).toBe(Number(after) + 2);
  });

  it('a node whose subscription was lost forgets the generations it knew', async () => {
    const [a, b] = [shared(), shared()];
    const gb = new Generations(b, b);
    const org = `org-${randomUUID()}`;
    for (let i = 0; i < 50 && !b.listening(); i += 1) await sleep(20);
    await sleep(100); // the subscription settles (its first confirmation drops what was known)
    expect(await gb.current(org)).toBe('0');
    // A change missed while the subscription is down (written without a broadcast).
    await a.increment(`gen:${org}`, 1, 60);
    expect(await gb.current(org)).toBe('0');
    const ids = await subscriberIds(b);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await b.client.call('CLIENT', 'KILL', 'ID', id);
    for (let i = 0; i < 100 && (await gb.current(org)) === '0'; i += 1) await sleep(10);
    expect(await gb.current(org)).toBe('1');
  });
});

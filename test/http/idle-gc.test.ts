/**
 * Memory given back between bursts: a server that answered requests and then had none for the
 * idle time collects once (two full collections back to back, seen as major GCs by Node's
 * performance observer), and not while it keeps answering or after it has collected once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { collectWhenIdle } from '../../src/observability/idle-gc.js';

const IDLE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('full collection when idle', () => {
  let server: Server;
  let url: string;
  const idle = collectWhenIdle(IDLE_MS);
  const majors: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as unknown as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(Date.now());
    }
  });

  beforeAll(async () => {
    server = createServer((_request, response) => {
      idle.request();
      // some garbage per request, as a real answer makes
      const parts = Array.from({ length: 2000 }, (_, i) => ({ i, text: `part ${i}` }));
      response.end(String(parts.length));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    observer.observe({ entryTypes: ['gc'] });
  });

  afterAll(async () => {
    observer.disconnect();
    idle.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  it('collects once after a burst, and not again while idle', async () => {
    // requests keep coming for 4 idle periods
    const busyUntil = Date.now() + 4 * IDLE_MS;
    majors.length = 0;
    while (Date.now() < busyUntil) {
      const response = await fetch(url);
      expect(await response.text()).toBe('2000');
      await sleep(20);
    }
    const lastRequest = Date.now();
    // then idle: one collection of two full GCs in a row, once the idle time has passed (timers
    // run late on a busy machine)
    const deadline = Date.now() + 20 * IDLE_MS;
    while (majors.filter((at) => at > lastRequest).length < 2 && Date.now() < deadline)
      await sleep(IDLE_MS / 4);
    const after = majors.filter((at) => at > lastRequest);
    expect(after).toHaveLength(2);
    expect(after[0]! - lastRequest).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(after[1]! - after[0]!).toBeLessThan(IDLE_MS);
    // and none more while nothing happens
    await sleep(3 * IDLE_MS);
    expect(majors.filter((at) => at > lastRequest)).toHaveLength(2);
  }, 30_000);
});

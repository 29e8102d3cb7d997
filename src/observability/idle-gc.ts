/**
 * Memory given back between bursts: once a server that was answering requests has had none for
 * `idleMs`, two full garbage collections run, one after the other. (V8 otherwise keeps the garbage
 * of the last burst in its heap, tens of MB of RSS, until the next burst fills it; its own
 * idle-time reducer runs only sometimes.) The first collects the garbage; the second gives back
 * pages the first emptied and, when V8 finds the allocation rate low, shrinks the young generation
 * (32 MB under load). They pause the process for some tens of milliseconds each, which only an
 * idle server can spare.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection of V8's heap, when this Node allows one to be asked for. */
export function fullCollection(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/** The requests a server answers, told one by one, and the end of its idle collections. */
export interface IdleCollection {
  /** Called for every request (a counter: nothing on the request's way). */
  request(): void;
  stop(): void;
}

/**
 * Collects once after each burst of requests (two full collections), `idleMs` after its last
 * request (checked every `idleMs`).
 */
export function collectWhenIdle(idleMs: number): IdleCollection {
  const collect = fullCollection();
  let requests = 0;
  let seen = 0;
  let uncollected = false;
  const timer = setInterval(() => {
    if (requests !== seen) {
      seen = requests;
      uncollected = true;
      return;
    }
    if (!uncollected || !collect) return;
    uncollected = false;
    collect();
    collect();
  }, idleMs);
  timer.unref();
  return {
    request: () => {
      requests += 1;
    },
    stop: () => clearInterval(timer),
  };
}

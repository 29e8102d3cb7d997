/**
 * Memory given back between bursts: once a server that was answering requests has had none for
 * `idleMs`, one full garbage collection runs. (V8 otherwise keeps the garbage of the last burst in
 * its heap, tens of MB of RSS, until the next burst fills it; its own idle-time reducer runs only
 * sometimes.) A full collection pauses the process for some tens of milliseconds, which only an
 * idle server can spare.
 */
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection of V8's heap, when this Node allows one to be asked for. */
function fullCollection(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/**
 * Collects once after each burst of requests to `server`, `idleMs` after its last request (checked
 * every `idleMs`). Returns the function that stops it.
 */
export function collectWhenIdle(server: Server, idleMs: number): () => void {
  const collect = fullCollection();
  if (!collect) return () => undefined;
  let requests = 0;
  let seen = 0;
  let uncollected = false;
  const count = (): void => {
    requests += 1;
  };
  server.on('request', count);
  const timer = setInterval(() => {
    if (requests !== seen) {
      seen = requests;
      uncollected = true;
      return;
    }
    if (!uncollected) return;
    uncollected = false;
    collect();
  }, idleMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off('request', count);
  };
}

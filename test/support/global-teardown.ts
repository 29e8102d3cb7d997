import { readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Stops the processes `global-setup` started. */
export default async function globalTeardown(): Promise<void> {
  const file = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    '.artifacts',
    `services-${process.env.TESSERA_TEST_RUN_ID}.json`,
  );
  let pids: number[] = [];
  try {
    pids = (JSON.parse(readFileSync(file, 'utf8')) as { pids: number[] }).pids;
  } catch {
    return;
  }
  rmSync(file, { force: true });
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

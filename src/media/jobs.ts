import type { JobHandler } from '../jobs/queue.js';
import { PermanentJobError } from '../jobs/queue.js';
import type { AssetCleanup, CleanupTask } from './cleanup.service.js';
import { AVIF_JOB, EAGER_JOB, type AvifRenders, type EagerPresets } from './eager.service.js';
import { MAINTENANCE_JOB, type Maintenance } from './maintenance.service.js';

/** Names of the jobs Tessera runs. */
export const JOB = {
  cleanup: 'asset.cleanup',
} as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** Checks a cleanup job's payload. @throws PermanentJobError for a malformed one. */
export function cleanupTaskOf(data: unknown): CleanupTask {
  if (isRecord(data) && typeof data.assetId === 'string') {
    if (data.kind === 'deleted') return { kind: 'deleted', assetId: data.assetId };
    if (
      data.kind === 'replaced' &&
      typeof data.previousVersion === 'number' &&
      typeof data.previousStorageKey === 'string'
    ) {
      return {
        kind: 'replaced',
        assetId: data.assetId,
        previousVersion: data.previousVersion,
        previousStorageKey: data.previousStorageKey,
      };
    }
  }
  throw new PermanentJobError('malformed cleanup job');
}

/** Idempotency key of a cleanup job. */
export const cleanupJobId = (task: CleanupTask): string =>
  task.kind === 'deleted'
    ? `cleanup.deleted.${task.assetId}`
    : `cleanup.replaced.${task.assetId}.${task.previousVersion}`;

/** The job handlers, by name: the same code runs in-process and in `npm run worker`. */
export function jobHandlers(deps: {
  cleanup: AssetCleanup;
  eager: EagerPresets;
  avif: AvifRenders;
  maintenance: Maintenance;
}): Record<string, JobHandler> {
  return {
    [JOB.cleanup]: async (data) => deps.cleanup.run(cleanupTaskOf(data)),
    [EAGER_JOB]: async (data, context) => deps.eager.run(data, context),
    [AVIF_JOB]: async (data) => deps.avif.run(data),
    [MAINTENANCE_JOB]: async () => {
      await deps.maintenance.run();
    },
  };
}

import { proxyActivities } from '@temporalio/workflow';
import type { AnnotationSyncSummary, SyncSummary } from '../activities/sync.ts';

export interface SweepSummary extends SyncSummary {
  /** The `annotations` sink (the top-level counts are the `vectors` sink's). */
  annotations: AnnotationSyncSummary;
}

/**
 * Sweeps the replication outbox (run by a Temporal schedule): delivers rows a feature run could not, e.g. while
 * the vector index was down. Both sinks are swept; one failing does not hold the other back.
 */
export async function outboxSweepWorkflow(input: { syncQueue: string }): Promise<SweepSummary> {
  const { syncVectorOutbox, syncAnnotationOutbox } = proxyActivities<{
    syncVectorOutbox(o: { maxBatches: number }): Promise<SyncSummary>;
    syncAnnotationOutbox(o: { maxBatches: number }): Promise<AnnotationSyncSummary>;
  }>({
    taskQueue: input.syncQueue,
    startToCloseTimeout: '30m',
    heartbeatTimeout: '2m',
    retry: { maximumAttempts: 3 },
  });
  const [vectors, annotations] = await Promise.allSettled([
    syncVectorOutbox({ maxBatches: 100 }),
    syncAnnotationOutbox({ maxBatches: 100 }),
  ]);
  if (vectors.status === 'rejected') throw vectors.reason;
  if (annotations.status === 'rejected') throw annotations.reason;
  return { ...vectors.value, annotations: annotations.value };
}

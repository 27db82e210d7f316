import { proxyActivities } from '@temporalio/workflow';
import type { SyncSummary } from '../activities/sync.ts';

/**
 * Sweeps the replication outbox (run by a Temporal schedule): delivers rows a feature run could not, e.g. while
 * the vector index was down.
 */
export async function outboxSweepWorkflow(input: { syncQueue: string }): Promise<SyncSummary> {
  const { syncVectorOutbox } = proxyActivities<{
    syncVectorOutbox(o: { maxBatches: number }): Promise<SyncSummary>;
  }>({
    taskQueue: input.syncQueue,
    startToCloseTimeout: '30m',
    heartbeatTimeout: '2m',
    retry: { maximumAttempts: 3 },
  });
  return syncVectorOutbox({ maxBatches: 100 });
}

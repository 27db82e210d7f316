import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Config } from '../config/config.ts';

export function outboxScheduleId(config: Config): string {
  return `${config.queues.orchestrator.replace(/-orchestrator$/, '')}-outbox-sweep`;
}

/** Creates the schedule that sweeps the replication outbox, once; a no-op when it already exists. */
export async function ensureOutboxSchedule(
  client: Client,
  config: Config,
): Promise<'created' | 'exists' | 'disabled'> {
  if (config.outboxSweepSeconds === 0) return 'disabled';
  try {
    await client.schedule.create({
      scheduleId: outboxScheduleId(config),
      spec: { intervals: [{ every: `${config.outboxSweepSeconds}s` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'outboxSweepWorkflow',
        workflowId: outboxScheduleId(config),
        taskQueue: config.queues.orchestrator,
        args: [{ syncQueue: config.queues.cpu }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}

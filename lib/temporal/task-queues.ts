import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;

export interface QueuePollers {
  queue: string;
  type: 'workflow' | 'activity';
  pollers: { identity: string; lastAccess: Date | undefined }[];
}

const TYPES = {
  workflow: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  activity: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
} as const;

export async function describePollers(
  client: Client,
  queue: string,
  type: keyof typeof TYPES,
): Promise<QueuePollers> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TYPES[type],
  });
  return {
    queue,
    type,
    pollers: (res.pollers ?? []).map((p) => ({
      identity: p.identity ?? '?',
      lastAccess: p.lastAccessTime?.seconds ? new Date(Number(p.lastAccessTime.seconds) * 1000) : undefined,
    })),
  };
}

/** Adds our search attributes to an external cluster's namespace; a no-op where they exist already. */
export async function ensureSearchAttributes(client: Client, names: readonly string[]): Promise<void> {
  const existing = await client.connection.operatorService.listSearchAttributes({
    namespace: client.options.namespace,
  });
  const missing = names.filter((n) => !(n in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace: client.options.namespace,
    searchAttributes: Object.fromEntries(
      missing.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
}

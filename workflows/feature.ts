import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  log,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  upsertMemo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { ComputeInput } from '../activities/compute.ts';
import type { FeatureRequest, Resolution, ValueRef } from '../lib/features/refs.ts';
import { BAD_INPUT, featureSummary } from '../lib/features/refs.ts';
import { EntityKeyKey, FeatureKey, TitleIdKey } from '../lib/temporal/search-attributes.ts';

export interface FeatureWorkflowInput extends FeatureRequest {
  /** Task queue of the orchestrator; children run there too. */
  orchestratorQueue: string;
}

const { resolveFeature } = proxyLocalActivities<{ resolveFeature(req: FeatureRequest): Promise<Resolution> }>(
  {
    startToCloseTimeout: '30s',
    retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [BAD_INPUT] },
  },
);

/**
 * One feature value for one entity. ID `feat/<name>@<version>/<entityKey>`: concurrent requests and shared
 * dependencies meet in the same execution. Memo hit → return at once; miss → dependencies as child workflows
 * (in parallel), then the compute activity on the feature's own task queue. A recompute skips the memo and
 * stores a new attempt; its dependencies are the current values.
 */
export async function featureWorkflow(input: FeatureWorkflowInput): Promise<ValueRef> {
  const { orchestratorQueue, ...request } = input;
  const { plan, memo } = await resolveFeature(request);
  if (memo) {
    upsertMemo({ outcome: 'memo-hit', valueId: memo.valueId });
    return memo;
  }

  const inputs = await Promise.all(
    plan.dependencies.map((dep) =>
      runFeatureChild(
        { feature: dep.feature, version: dep.version, entityKey: input.entityKey, titleId: input.titleId },
        dep.workflowId,
        orchestratorQueue,
      ),
    ),
  );

  const { computeFeature } = proxyActivities<{ computeFeature(i: ComputeInput): Promise<ValueRef> }>({
    taskQueue: plan.taskQueue,
    startToCloseTimeout: plan.startToCloseMs,
    heartbeatTimeout: plan.heartbeatMs,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: plan.maxAttempts,
      nonRetryableErrorTypes: [BAD_INPUT, 'OutputSchemaViolation'],
    },
    summary: `compute ${input.feature}@${input.version}${plan.attempt ? ` (attempt ${plan.attempt})` : ''}`,
  });
  const ref = await computeFeature({
    feature: input.feature,
    version: input.version,
    entityKey: input.entityKey,
    titleId: input.titleId,
    params: plan.params,
    paramsHash: plan.paramsHash,
    inputs,
    attempt: plan.attempt,
  });
  upsertMemo({ outcome: ref.memoHit ? 'memo-hit' : 'computed', valueId: ref.valueId, attempt: ref.attempt });
  if (!ref.memoHit && plan.sinks.includes('vectors')) {
    // Replication is best-effort here: an undelivered outbox row is picked up by the scheduled sweep.
    const { syncVectorOutbox } = proxyActivities<{
      syncVectorOutbox(o: { maxBatches: number }): Promise<unknown>;
    }>({
      taskQueue: plan.syncQueue,
      startToCloseTimeout: '10m',
      heartbeatTimeout: '1m',
      retry: { maximumAttempts: 2 },
      summary: 'replicate vectors',
    });
    await syncVectorOutbox({ maxBatches: 1 }).catch((err) =>
      log.warn('vector replication deferred to the outbox sweep', { error: String(err) }),
    );
  }
  if (!ref.memoHit && plan.sinks.includes('annotations')) {
    // This value's run, written and published now; a failure leaves the row to the scheduled sweep.
    const { syncAnnotationOutbox } = proxyActivities<{
      syncAnnotationOutbox(o: { maxBatches: number; valueId?: string }): Promise<unknown>;
    }>({
      taskQueue: plan.syncQueue,
      startToCloseTimeout: '10m',
      heartbeatTimeout: '1m',
      retry: { maximumAttempts: 2 },
      summary: 'replicate annotations',
    });
    await syncAnnotationOutbox({ maxBatches: 1, valueId: ref.valueId }).catch((err) =>
      log.warn('annotation replication deferred to the outbox sweep', { error: String(err) }),
    );
  }
  return ref;
}

/**
 * Runs a feature as a child workflow under a deterministic id. When that id is already running (another parent
 * or client asked first) it waits for that run instead of computing the value a second time.
 */
export async function runFeatureChild(
  request: FeatureRequest,
  workflowId: string,
  orchestratorQueue: string,
): Promise<ValueRef> {
  try {
    const child = await startChild(featureWorkflow, {
      workflowId,
      taskQueue: orchestratorQueue,
      args: [{ ...request, orchestratorQueue }],
      // A shared dependency outlives any one parent that asked for it.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: FeatureKey, value: request.feature },
        { key: EntityKeyKey, value: request.entityKey },
        ...(request.titleId ? [{ key: TitleIdKey, value: request.titleId }] : []),
      ],
      staticSummary: featureSummary(request.feature, request.version, request.entityKey, request.titleId),
    });
    return await child.result();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const { awaitFeatureWorkflow } = proxyActivities<{ awaitFeatureWorkflow(id: string): Promise<ValueRef> }>(
      {
        taskQueue: orchestratorQueue,
        startToCloseTimeout: '24h',
        heartbeatTimeout: '20s',
        retry: { maximumAttempts: 3 },
        summary: `await ${workflowId}`,
      },
    );
    return awaitFeatureWorkflow(workflowId);
  }
}

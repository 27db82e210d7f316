import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  upsertMemo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { ComputeInput } from '../activities/compute.ts';
import type { DependencyPlan, FeatureRequest, Resolution, ValueRef } from '../lib/features/refs.ts';
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
 * (in parallel), then the compute activity on the feature's own task queue.
 */
export async function featureWorkflow(input: FeatureWorkflowInput): Promise<ValueRef> {
  const request: FeatureRequest = {
    feature: input.feature,
    version: input.version,
    entityKey: input.entityKey,
    titleId: input.titleId,
    params: input.params,
  };
  const { plan, memo } = await resolveFeature(request);
  if (memo) {
    upsertMemo({ outcome: 'memo-hit', valueId: memo.valueId });
    return memo;
  }

  const inputs = await Promise.all(plan.dependencies.map((dep) => resolveDependency(dep, input)));

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
    summary: `compute ${input.feature}@${input.version}`,
  });
  const ref = await computeFeature({
    feature: input.feature,
    version: input.version,
    entityKey: input.entityKey,
    titleId: input.titleId,
    params: plan.params,
    paramsHash: plan.paramsHash,
    inputs,
    attempt: 0,
  });
  upsertMemo({ outcome: ref.memoHit ? 'memo-hit' : 'computed', valueId: ref.valueId });
  return ref;
}

async function resolveDependency(dep: DependencyPlan, parent: FeatureWorkflowInput): Promise<ValueRef> {
  try {
    const child = await startChild(featureWorkflow, {
      workflowId: dep.workflowId,
      taskQueue: parent.orchestratorQueue,
      args: [{ ...parent, feature: dep.feature, version: dep.version, params: undefined }],
      // A shared dependency outlives any one parent that asked for it.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: FeatureKey, value: dep.feature },
        { key: EntityKeyKey, value: parent.entityKey },
        ...(parent.titleId ? [{ key: TitleIdKey, value: parent.titleId }] : []),
      ],
      staticSummary: featureSummary(dep.feature, dep.version, parent.entityKey, parent.titleId),
    });
    return await child.result();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Another parent is computing it right now: wait for that run instead of computing twice.
    const { awaitFeatureWorkflow } = proxyActivities<{ awaitFeatureWorkflow(id: string): Promise<ValueRef> }>(
      {
        taskQueue: parent.orchestratorQueue,
        startToCloseTimeout: '24h',
        heartbeatTimeout: '20s',
        retry: { maximumAttempts: 3 },
        summary: `await ${dep.workflowId}`,
      },
    );
    return awaitFeatureWorkflow(dep.workflowId);
  }
}

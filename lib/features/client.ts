import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { featureWorkflow } from '../../workflows/feature.ts';
import type { Config } from '../config/config.ts';
import { EntityKeyKey, FeatureKey, TitleIdKey } from '../temporal/search-attributes.ts';
import { BadInputError } from './definition.ts';
import { normalizeParams } from './params.ts';
import { type FeatureRequest, featureSummary, featureWorkflowId, type ValueRef } from './refs.ts';
import type { FeatureRegistry } from './registry.ts';

export interface FeatureRunRequest {
  feature: string;
  entityKey: string;
  titleId?: string | undefined;
  params?: Record<string, unknown> | undefined;
}

/**
 * Starts (or joins, when it is already running) the feature workflow for one entity. The ID is deterministic,
 * so any number of concurrent callers share one execution.
 */
export async function startFeature(
  client: Client,
  config: Config,
  registry: FeatureRegistry,
  req: FeatureRunRequest,
): Promise<WorkflowHandle<typeof featureWorkflow>> {
  const feature = registry.get(req.feature);
  if (!feature) throw new BadInputError(`unknown feature "${req.feature}"`);
  if (!/^[0-9a-f]{64}$/.test(req.entityKey)) {
    throw new BadInputError(
      `entity key must be a sha256 hex digest (64 lowercase hex chars), got "${req.entityKey}"`,
    );
  }
  const { paramsKey } = normalizeParams(feature, req.params);
  const request: FeatureRequest = {
    feature: feature.name,
    version: feature.version,
    entityKey: req.entityKey,
    titleId: req.titleId,
    params: req.params,
  };
  return client.workflow.start<typeof featureWorkflow>('featureWorkflow', {
    workflowId: featureWorkflowId(feature.name, feature.version, req.entityKey, paramsKey),
    taskQueue: config.queues.orchestrator,
    args: [{ ...request, orchestratorQueue: config.queues.orchestrator }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [
      { key: FeatureKey, value: feature.name },
      { key: EntityKeyKey, value: req.entityKey },
      ...(req.titleId ? [{ key: TitleIdKey, value: req.titleId }] : []),
    ],
    staticSummary: featureSummary(feature.name, feature.version, req.entityKey, req.titleId),
    staticDetails: [
      `**${feature.name}@${feature.version}** — ${feature.description}`,
      '',
      `- entity: \`${req.entityKey}\` (${feature.entityType})`,
      `- queue: ${config.queues[feature.taskQueue]}`,
      `- depends on: ${feature.dependencies.join(', ') || '—'}`,
    ].join('\n'),
  });
}

export async function runFeature(
  client: Client,
  config: Config,
  registry: FeatureRegistry,
  req: FeatureRunRequest,
): Promise<ValueRef> {
  const handle = await startFeature(client, config, registry, req);
  return handle.result();
}

import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../lib/config/config.ts';
import { BadInputError } from '../lib/features/definition.ts';
import { normalizeParams } from '../lib/features/params.ts';
import { BAD_INPUT, type FeatureRequest, featureWorkflowId, type Resolution } from '../lib/features/refs.ts';
import type { FeatureRegistry } from '../lib/features/registry.ts';
import type { Db } from '../lib/store/db.ts';
import { findCurrentValue, nextAttempt } from '../lib/store/values.ts';

export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: BAD_INPUT, nonRetryable: true });
}

/** Plans one feature request and looks up its memo. Runs as a local activity next to the workflow. */
export function makeResolveFeature(deps: { db: Db; registry: FeatureRegistry; config: Config }) {
  return async function resolveFeature(req: FeatureRequest): Promise<Resolution> {
    const feature = deps.registry.get(req.feature);
    if (!feature) {
      const known = deps.registry
        .list()
        .map((f) => f.name)
        .join(', ');
      throw badInput(`unknown feature "${req.feature}" (registered: ${known})`);
    }
    if (feature.version !== req.version) {
      throw badInput(
        `feature ${req.feature} is served at version ${feature.version}, not ${req.version}: no worker computes that version`,
      );
    }
    let normalized: ReturnType<typeof normalizeParams>;
    try {
      normalized = normalizeParams(feature, req.params);
    } catch (err) {
      if (err instanceof BadInputError) throw badInput(err.message);
      throw err;
    }
    const key = {
      feature: feature.name,
      version: feature.version,
      entityKey: req.entityKey,
      paramsHash: normalized.paramsHash,
    };
    const memo = req.recompute ? null : await findCurrentValue(deps.db, key);
    return {
      memo,
      plan: {
        taskQueue: deps.config.queues[feature.taskQueue],
        paramsHash: normalized.paramsHash,
        params: normalized.params,
        dependencies: feature.dependencies.map((name) => {
          const dep = deps.registry.get(name)!;
          return {
            feature: name,
            version: dep.version,
            workflowId: featureWorkflowId(name, dep.version, req.entityKey),
          };
        }),
        startToCloseMs: feature.timeoutMs,
        heartbeatMs: feature.heartbeatTimeoutMs,
        maxAttempts: feature.maxAttempts,
        attempt: req.recompute ? await nextAttempt(deps.db, key) : 0,
        sinks: feature.sinks,
        syncQueue: deps.config.queues.cpu,
      },
    };
  };
}

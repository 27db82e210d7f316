import os from 'node:os';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../lib/config/log.ts';
import { BadInputError } from '../lib/features/definition.ts';
import type { ValueRef } from '../lib/features/refs.ts';
import type { FeatureRegistry } from '../lib/features/registry.ts';
import type { MediaTools } from '../lib/media/tools.ts';
import { type ObjectRef, type ObjectStore, objectRefSchema } from '../lib/objects/store.ts';
import type { Db } from '../lib/store/db.ts';
import { insertValue, loadInputs, memoWhere, toRef } from '../lib/store/values.ts';
import { badInput } from './resolve.ts';

export interface ComputeInput {
  feature: string;
  version: number;
  entityKey: string;
  titleId?: string | undefined;
  params: Record<string, unknown>;
  paramsHash: string;
  inputs: ValueRef[];
  /** Value attempt: 0 for the first computation, higher for an explicit recompute. */
  attempt: number;
}

/**
 * Computes one feature value and stores it with lineage and outbox rows. Idempotent: if the value already
 * exists (an earlier try stored it and then died) it is returned without computing.
 */
export function makeComputeFeature(deps: {
  db: Db;
  registry: FeatureRegistry;
  objects: ObjectStore;
  tools: MediaTools;
  log: Logger;
}) {
  const worker = `${os.hostname()}/${process.pid}`;
  return async function computeFeature(input: ComputeInput): Promise<ValueRef> {
    const ctx = Context.current();
    const feature = deps.registry.get(input.feature);
    if (!feature || feature.version !== input.version) {
      throw badInput(`this worker does not serve ${input.feature}@${input.version}`);
    }
    const existing = await deps.db.featureValue.findUnique({
      where: { memoKey: { ...memoWhere(input), attempt: input.attempt } },
    });
    if (existing) return toRef(existing, true);
    const log = deps.log.child({
      feature: input.feature,
      entityKey: input.entityKey,
      workflowId: ctx.info.workflowExecution!.workflowId,
      try: ctx.info.attempt,
    });
    const inputs = await loadInputs(deps.db, input.inputs);
    let progress: unknown;
    const beat = setInterval(() => ctx.heartbeat(progress), Math.max(200, feature.heartbeatTimeoutMs / 3));
    const startedAt = new Date();
    let output: unknown;
    try {
      log.info('compute start');
      output = await feature.compute({
        entityKey: input.entityKey,
        titleId: input.titleId,
        params: input.params,
        inputs,
        heartbeat: (p?: unknown) => {
          progress = p;
          ctx.heartbeat(p);
        },
        signal: ctx.cancellationSignal,
        log,
        objects: deps.objects,
        tools: deps.tools,
        assetPath: () => assetPath(deps.db, deps.objects, input.entityKey),
        attempt: ctx.info.attempt,
      });
    } catch (err) {
      if (err instanceof BadInputError)
        throw badInput(`${input.feature} on ${input.entityKey}: ${err.message}`);
      throw err;
    } finally {
      clearInterval(beat);
    }
    const finishedAt = new Date();
    const checked = feature.output.safeParse(output);
    if (!checked.success) {
      const detail = checked.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw ApplicationFailure.create({
        message: `${input.feature}@${input.version} produced output that violates its schema: ${detail}`,
        type: 'OutputSchemaViolation',
        nonRetryable: true,
      });
    }
    let object: ObjectRef | undefined;
    if (feature.outputKind === 'object') {
      const ref = objectRefSchema.safeParse((checked.data as { object?: unknown }).object);
      if (!ref.success) {
        throw ApplicationFailure.create({
          message: `${input.feature} declares outputKind 'object' but its value has no valid \`object\` reference`,
          type: 'OutputSchemaViolation',
          nonRetryable: true,
        });
      }
      object = ref.data;
    }
    const { ref, created } = await insertValue(deps.db, {
      feature: input.feature,
      version: input.version,
      entityKey: input.entityKey,
      paramsHash: input.paramsHash,
      attempt: input.attempt,
      titleId: input.titleId,
      value: checked.data,
      object,
      codeHash: feature.codeHash,
      workflowId: ctx.info.workflowExecution!.workflowId,
      runId: ctx.info.workflowExecution!.runId,
      worker,
      startedAt,
      finishedAt,
      inputs: input.inputs,
      sinks: feature.sinks,
    });
    log.info(
      { valueId: ref.valueId, created, ms: finishedAt.getTime() - startedAt.getTime() },
      'compute done',
    );
    return ref;
  };
}

async function assetPath(db: Db, objects: ObjectStore, hash: string): Promise<string> {
  const asset = await db.asset.findUnique({ where: { hash } });
  if (!asset) throw new BadInputError(`no asset with content hash ${hash} has been ingested`);
  return objects.localPath({ uri: asset.objectUri });
}

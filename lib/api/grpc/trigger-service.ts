import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import type { TitleStatus } from '../../../workflows/title.ts';
import type { Config } from '../../config/config.ts';
import type { Logger } from '../../config/log.ts';
import { BadInputError, FEATURE_NAME } from '../../features/definition.ts';
import { normalizeParams } from '../../features/params.ts';
import { titleWorkflowId, type ValueRef } from '../../features/refs.ts';
import { describeFeature, type FeatureRegistry } from '../../features/registry.ts';
import { IngestError } from '../../media/ingest.ts';
import type { ObjectStore } from '../../objects/store.ts';
import type { Db } from '../../store/db.ts';
import { recordTrigger } from '../../store/triggers.ts';
import { memoWhere } from '../../store/values.ts';
import { landAsset, productizedFeatures } from '../../triggers/land.ts';
import { MediaFileMissingError, PathOutsideRootsError, resolveMediaPath } from '../../triggers/media-path.ts';
import { titleIdSchema } from '../../triggers/title-rule.ts';
import { bearerAllowed } from '../auth.ts';
import type { FeatureValue } from '../generated/mediamesh/v1/FeatureValue.ts';
import type { TitleStatus as ProtoTitleStatus } from '../generated/mediamesh/v1/TitleStatus.ts';
import type { TriggerServiceHandlers } from '../generated/mediamesh/v1/TriggerService.ts';
import type { ValueRef as ProtoValueRef } from '../generated/mediamesh/v1/ValueRef.ts';
import { ApiError, invalid, notFound, parseRequest } from './errors.ts';

export interface TriggerServiceDeps {
  db: Db;
  client: Client;
  config: Config;
  registry: FeatureRegistry;
  objects: ObjectStore;
  log: Logger;
}

const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest (64 lowercase hex characters)');
const featureName = z.string().regex(FEATURE_NAME, 'not a feature name');

const triggerSchema = z
  .object({
    titleId: titleIdSchema,
    // Members of a proto oneof are absent (not defaulted) when unset.
    path: z.string().max(4096, 'longer than 4096 characters').default(''),
    objectUri: z.string().max(200).default(''),
    features: z.array(featureName).max(100, 'at most 100 features'),
  })
  .refine((r) => (r.path === '') !== (r.objectUri === ''), {
    message: 'give exactly one of path or object_uri',
    path: ['path'],
  });

const recomputeSchema = z.object({
  titleId: titleIdSchema,
  feature: z.union([z.literal(''), featureName]),
  cascade: z.boolean(),
  reason: z.string().trim().min(1, 'say why (reason is required)').max(1000),
  assetHash: z.union([z.literal(''), sha256]),
});

const statusSchema = z.object({ titleId: titleIdSchema });

const valueSchema = z.object({
  feature: featureName,
  entityKey: sha256,
  attempt: z.number().int().min(0).max(1_000_000),
  paramsJson: z.string().max(64 * 1024),
});

function toProtoRef(ref: ValueRef | null): ProtoValueRef | null {
  if (!ref) return null;
  return {
    valueId: ref.valueId,
    feature: ref.feature,
    version: ref.version,
    entityKey: ref.entityKey,
    attempt: ref.attempt,
    objectUri: ref.objectUri ?? '',
  };
}

function toProtoStatus(s: TitleStatus): ProtoTitleStatus {
  return {
    titleId: s.titleId,
    features: s.features,
    assets: s.assets.map((a) => ({
      assetHash: a.assetHash,
      path: a.path,
      landedAt: a.landedAt,
      features: a.features.map((f) => ({
        feature: f.feature,
        state: f.state,
        value: toProtoRef(f.value),
        lastError: f.lastError ?? '',
        updatedAt: f.updatedAt,
      })),
    })),
    pending: s.pending,
    running: s.running,
    done: s.done,
    failed: s.failed,
    revision: String(s.revision),
    runId: s.runId,
  };
}

/** Maps what can go wrong to the status a client can act on; anything unexpected is INTERNAL and logged. */
function toServiceError(err: unknown, log: Logger, method: string): Partial<grpc.StatusObject> {
  if (err instanceof ApiError) return { code: err.code, details: err.message };
  if (err instanceof PathOutsideRootsError)
    return { code: grpc.status.PERMISSION_DENIED, details: err.message };
  if (err instanceof MediaFileMissingError) return { code: grpc.status.NOT_FOUND, details: err.message };
  if (err instanceof IngestError || err instanceof BadInputError) {
    return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  }
  if (err instanceof WorkflowNotFoundError) return { code: grpc.status.NOT_FOUND, details: err.message };
  const e = err as { code?: number; message?: string };
  if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
    return { code: e.code, details: `upstream: ${e.message}` };
  }
  log.error({ err, method }, 'request failed');
  return { code: grpc.status.INTERNAL, details: 'internal error (see the api log)' };
}

export function createTriggerService(deps: TriggerServiceDeps): TriggerServiceHandlers {
  const { db, client, config, registry, log } = deps;

  const authorize = (metadata: grpc.Metadata) => {
    const header = metadata.get('authorization')[0];
    if (!bearerAllowed(typeof header === 'string' ? header : undefined, config.api.tokens)) {
      throw new ApiError(
        grpc.status.UNAUTHENTICATED,
        'missing or invalid bearer token (metadata authorization: Bearer <token>)',
      );
    }
  };

  const unary =
    <Req, Res>(method: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      (async () => {
        authorize(call.metadata);
        return fn(call.request, call);
      })().then(
        (res) => callback(null, res),
        (err) => callback(toServiceError(err, log, method)),
      );
    };

  const unknownFeatures = (names: string[]) => names.filter((n) => !registry.get(n));

  const queryTitle = async (titleId: string): Promise<TitleStatus> => {
    try {
      return await client.workflow.getHandle(titleWorkflowId(titleId)).query<TitleStatus>('status');
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw notFound(`no title ${titleId}: nothing has landed for it`);
      throw err;
    }
  };

  return {
    Trigger: unary('Trigger', async (raw) => {
      const req = parseRequest(triggerSchema, raw);
      const unknown = unknownFeatures(req.features);
      if (unknown.length) throw invalid(`features: unknown feature ${unknown.join(', ')}`);
      let source: { file: string } | { objectHash: string };
      if (req.path) source = { file: await resolveMediaPath(req.path, config.mediaRoots) };
      else {
        const m = /^mm:\/\/sha256\/([0-9a-f]{64})$/.exec(req.objectUri);
        if (!m) throw invalid('object_uri: must be mm://sha256/<64 hex characters>');
        if (!(await db.asset.findUnique({ where: { hash: m[1]! } })))
          throw notFound(`no asset ${req.objectUri}`);
        source = { objectHash: m[1]! };
      }
      return landAsset(deps, { titleId: req.titleId, source, features: req.features, origin: 'api' });
    }),

    Recompute: unary('Recompute', async (raw) => {
      const req = parseRequest(recomputeSchema, raw);
      if (req.feature && !registry.get(req.feature)) throw invalid(`feature: unknown feature ${req.feature}`);
      const status = await queryTitle(req.titleId);
      const inScope = new Set(
        status.features.flatMap((f) => (registry.get(f) ? registry.closure(f).map((d) => d.name) : [f])),
      );
      if (req.feature && !inScope.has(req.feature)) {
        throw invalid(
          `feature: ${req.feature} is neither one of title ${req.titleId}'s features (${status.features.join(', ')}) nor a dependency of one`,
        );
      }
      if (req.assetHash && !status.assets.some((a) => a.assetHash === req.assetHash)) {
        throw notFound(`title ${req.titleId} has no asset ${req.assetHash}`);
      }
      const requestId = crypto.randomUUID();
      const workflowId = titleWorkflowId(req.titleId);
      await client.workflow.getHandle(workflowId).signal('recompute', {
        ...(req.feature ? { feature: req.feature } : {}),
        cascade: req.cascade,
        reason: req.reason,
        ...(req.assetHash ? { assetHash: req.assetHash } : {}),
        requestId,
      });
      await recordTrigger(db, {
        source: 'api',
        titleId: req.titleId,
        entityKey: req.assetHash || undefined,
        features: req.feature ? [req.feature] : status.features,
        detail: { recompute: true, cascade: req.cascade, reason: req.reason, requestId },
        workflowId,
      });
      return { workflowId, requestId };
    }),

    GetStatus: unary('GetStatus', async (raw) =>
      toProtoStatus(await queryTitle(parseRequest(statusSchema, raw).titleId)),
    ),

    GetFeatureValue: unary('GetFeatureValue', async (raw): Promise<FeatureValue> => {
      const req = parseRequest(valueSchema, raw);
      const feature = registry.get(req.feature);
      if (!feature) throw notFound(`unknown feature ${req.feature}`);
      let params: Record<string, unknown> | undefined;
      if (req.paramsJson) {
        try {
          params = JSON.parse(req.paramsJson);
        } catch {
          throw invalid('params_json: not valid JSON');
        }
        if (!params || typeof params !== 'object' || Array.isArray(params))
          throw invalid('params_json: must be a JSON object');
      }
      const { paramsHash } = normalizeParams(feature, params);
      const where = memoWhere({
        feature: feature.name,
        version: feature.version,
        entityKey: req.entityKey,
        paramsHash,
      });
      const attempts = await db.featureValue.findMany({
        where,
        select: { attempt: true },
        orderBy: { attempt: 'asc' },
      });
      const wanted = req.attempt || attempts.at(-1)?.attempt;
      const row =
        wanted === undefined
          ? null
          : await db.featureValue.findUnique({
              where: { memoKey: { ...where, attempt: wanted } },
              include: { inputs: { include: { input: true } } },
            });
      if (!row)
        throw notFound(
          `no value of ${feature.name}@${feature.version} for ${req.entityKey}${req.attempt ? ` at attempt ${req.attempt}` : ''}`,
        );
      const ref = (r: typeof row | (typeof row.inputs)[number]['input']): ProtoValueRef => ({
        valueId: r.id.toString(),
        feature: r.featureName,
        version: r.featureVersion,
        entityKey: r.entityKey,
        attempt: r.attempt,
        objectUri: r.objectUri ?? '',
      });
      return {
        ref: ref(row),
        valueJson: JSON.stringify(row.value),
        inputs: row.inputs.map((i) => ref(i.input)),
        workflowId: row.workflowId,
        runId: row.runId,
        worker: row.worker,
        createdAt: row.createdAt.toISOString(),
        computeMs: row.computeMs,
        attempts: attempts.map((a) => a.attempt),
      };
    }),

    ListFeatures: unary('ListFeatures', async () => {
      const productized = new Set(productizedFeatures(config, registry));
      return {
        features: registry
          .list()
          .map((f) => ({ ...describeFeature(f), productized: productized.has(f.name) })),
      };
    }),

    WatchStatus: (call) => {
      let closed = false;
      call.on('cancelled', () => {
        closed = true;
      });
      (async () => {
        authorize(call.metadata);
        const { titleId } = parseRequest(statusSchema, call.request);
        let last = '';
        while (!closed) {
          const status = await queryTitle(titleId);
          const mark = `${status.runId}:${status.revision}`;
          if (mark !== last) {
            last = mark;
            call.write(toProtoStatus(status));
          }
          await sleep(250);
        }
      })().then(
        () => call.end(),
        (err) => {
          if (!closed) call.emit('error', toServiceError(err, log, 'WatchStatus'));
        },
      );
    },
  };
}

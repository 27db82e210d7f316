import type { Client } from '@temporalio/client';
import type { titleWorkflow } from '../../workflows/title.ts';
import type { Config } from '../config/config.ts';
import { titleWorkflowId } from '../features/refs.ts';
import type { FeatureRegistry } from '../features/registry.ts';
import { addToTitle, type IngestedAsset, ingestFile } from '../media/ingest.ts';
import type { ObjectStore } from '../objects/store.ts';
import type { Db } from '../store/db.ts';
import { recordTrigger, type TriggerRecord } from '../store/triggers.ts';
import { TitleIdKey } from '../temporal/search-attributes.ts';

export interface LandingDeps {
  db: Db;
  client: Client;
  config: Config;
  registry: FeatureRegistry;
  objects: ObjectStore;
}

export interface Landing {
  titleId: string;
  /** A local file to ingest (or just ingested: `ingested`), or an object already in the store. */
  source: { file: string; ingested?: IngestedAsset } | { objectHash: string };
  features?: string[] | undefined;
  origin: TriggerRecord['source'];
  detail?: Record<string, unknown>;
}

export interface Landed {
  assetHash: string;
  workflowId: string;
  newAsset: boolean;
  features: string[];
}

/** Every registered per-asset feature unless MEDIAMESH_PRODUCTIZED_FEATURES narrows it. */
export function productizedFeatures(config: Config, registry: FeatureRegistry): string[] {
  if (config.productizedFeatures.length > 0) return config.productizedFeatures;
  return registry
    .list()
    .filter((f) => f.entityType === 'asset')
    .map((f) => f.name);
}

/**
 * Lands one asset for a title: ingest by content, signal-with-start the title workflow, then record the trigger
 * event. Same bytes again → the workflow ignores them; a retry after a failure anywhere is harmless.
 */
export async function landAsset(deps: LandingDeps, landing: Landing): Promise<Landed> {
  let assetHash: string;
  let newAsset: boolean;
  let path: string;
  if ('file' in landing.source) {
    const asset =
      landing.source.ingested ??
      (await ingestFile(deps.db, deps.objects, landing.source.file, landing.titleId));
    assetHash = asset.hash;
    newAsset = asset.created;
    path = landing.source.file;
  } else {
    const asset = await deps.db.asset.findUnique({ where: { hash: landing.source.objectHash } });
    if (!asset) throw new Error(`no asset with content hash ${landing.source.objectHash}`);
    await addToTitle(deps.db, landing.titleId, asset.hash);
    assetHash = asset.hash;
    newAsset = false;
    path = asset.objectUri;
  }
  const features = landing.features?.length
    ? landing.features
    : productizedFeatures(deps.config, deps.registry);
  const workflowId = titleWorkflowId(landing.titleId);
  await deps.client.workflow.signalWithStart<
    typeof titleWorkflow,
    [{ assetHash: string; path: string; features?: string[] }]
  >('titleWorkflow', {
    workflowId,
    taskQueue: deps.config.queues.orchestrator,
    args: [
      {
        titleId: landing.titleId,
        features: productizedFeatures(deps.config, deps.registry),
        orchestratorQueue: deps.config.queues.orchestrator,
        maxHistoryEvents: deps.config.titleMaxHistory,
      },
    ],
    signal: 'assetLanded',
    signalArgs: [{ assetHash, path, ...(landing.features?.length ? { features: landing.features } : {}) }],
    typedSearchAttributes: [{ key: TitleIdKey, value: landing.titleId }],
    staticSummary: `title ${landing.titleId}`,
  });
  await recordTrigger(deps.db, {
    source: landing.origin,
    titleId: landing.titleId,
    entityKey: assetHash,
    features,
    detail: { path, newAsset, ...landing.detail },
    workflowId,
  });
  return { assetHash, workflowId, newAsset, features };
}

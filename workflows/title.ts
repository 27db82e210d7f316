import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlannedFeature, TitlePlan } from '../activities/plan.ts';
import { featureWorkflowId, recomputeWorkflowId, type ValueRef } from '../lib/features/refs.ts';
import { runFeatureChild } from './feature.ts';

export interface AssetLanded {
  assetHash: string;
  path: string;
  /** Run these instead of the title's productized features (for this asset only). */
  features?: string[] | undefined;
}

export interface RecomputeRequest {
  feature?: string | undefined;
  cascade?: boolean | undefined;
  reason: string;
  assetHash?: string | undefined;
  requestId?: string | undefined;
}

export type FeatureState = 'pending' | 'running' | 'done' | 'failed';

export interface FeatureStatus {
  feature: string;
  state: FeatureState;
  value: ValueRef | null;
  lastError: string | null;
  updatedAt: string;
}

export interface AssetStatus {
  assetHash: string;
  path: string;
  landedAt: string;
  features: FeatureStatus[];
}

export interface TitleStatus {
  titleId: string;
  features: string[];
  assets: AssetStatus[];
  pending: number;
  running: number;
  done: number;
  failed: number;
  revision: number;
  runId: string;
}

type WorkItem =
  | { kind: 'run'; assetHash: string; features: string[] }
  | { kind: 'recompute'; requestId: string; request: RecomputeRequest };

interface CarriedState {
  features: string[];
  assets: AssetStatus[];
  queue: WorkItem[];
  revision: number;
}

export interface TitleWorkflowInput {
  titleId: string;
  /** The title's productized features, run on every asset that lands. */
  features: string[];
  orchestratorQueue: string;
  /** Continue-as-new once history reaches this many events (Temporal also suggests it near its limits). */
  maxHistoryEvents?: number;
  /** At most this many feature runs in flight at once (Temporal allows 2,000 pending children). */
  maxInFlight?: number;
  carried?: CarriedState;
}

export const assetLandedSignal = defineSignal<[AssetLanded]>('assetLanded');
export const recomputeSignal = defineSignal<[RecomputeRequest]>('recompute');
export const setFeaturesSignal = defineSignal<[{ features: string[] }]>('setFeatures');
export const statusQuery = defineQuery<TitleStatus>('status');

const { planTitleFeatures, planRecompute } = proxyLocalActivities<{
  planTitleFeatures(features: string[]): Promise<TitlePlan>;
  planRecompute(req: {
    titleFeatures: string[];
    feature?: string;
    cascade: boolean;
  }): Promise<PlannedFeature[][]>;
}>({ startToCloseTimeout: '30s' });

function failureMessage(err: unknown): string {
  let cur: unknown = err;
  while (cur instanceof Error && cur.cause instanceof Error) cur = cur.cause;
  return cur instanceof Error ? cur.message : String(cur);
}

/**
 * One long-lived workflow per title (`title/<titleId>`). Each newly landed asset gets the title's productized
 * features as child feature workflows; `recompute` starts new attempts; `setFeatures` changes the set and runs
 * the new ones on every asset already there. Status is a query. Continues as new before the history grows large,
 * carrying its state and any queued work.
 */
export async function titleWorkflow(input: TitleWorkflowInput): Promise<void> {
  const maxHistory = input.maxHistoryEvents ?? 5000;
  const maxInFlight = input.maxInFlight ?? 200;
  let features = input.carried?.features ?? [...input.features];
  const assets = new Map((input.carried?.assets ?? []).map((a) => [a.assetHash, a]));
  const queue: WorkItem[] = [...(input.carried?.queue ?? [])];
  let revision = input.carried?.revision ?? 0;
  let inFlight = 0;

  const now = () => new Date().toISOString();
  const touch = () => {
    revision++;
  };
  const statusOf = (asset: AssetStatus, feature: string): FeatureStatus => {
    let s = asset.features.find((f) => f.feature === feature);
    if (!s) {
      s = { feature, state: 'pending', value: null, lastError: null, updatedAt: now() };
      asset.features.push(s);
    }
    return s;
  };
  const setState = (asset: AssetStatus, feature: string, patch: Partial<FeatureStatus>) => {
    Object.assign(statusOf(asset, feature), patch, { updatedAt: now() });
    touch();
  };

  setHandler(assetLandedSignal, ({ assetHash, path, features: only }) => {
    const wanted = only && only.length > 0 ? only : features;
    let asset = assets.get(assetHash);
    if (!asset) {
      asset = { assetHash, path, landedAt: now(), features: [] };
      assets.set(assetHash, asset);
    }
    // Same bytes again (a rename, a copy, a retried trigger): only features it never had are run.
    const fresh = wanted.filter((f) => !asset.features.some((s) => s.feature === f));
    if (fresh.length === 0) return;
    for (const f of fresh) statusOf(asset, f);
    touch();
    queue.push({ kind: 'run', assetHash, features: fresh });
  });

  setHandler(setFeaturesSignal, ({ features: next }) => {
    features = [...new Set(next)];
    touch();
    for (const asset of assets.values()) {
      const fresh = features.filter((f) => !asset.features.some((s) => s.feature === f));
      if (fresh.length === 0) continue;
      for (const f of fresh) statusOf(asset, f);
      queue.push({ kind: 'run', assetHash: asset.assetHash, features: fresh });
    }
  });

  setHandler(recomputeSignal, (request) => {
    queue.push({ kind: 'recompute', requestId: request.requestId ?? uuid4(), request });
    touch();
  });

  setHandler(statusQuery, () => {
    const all = [...assets.values()];
    const count = (state: FeatureState) =>
      all.reduce((n, a) => n + a.features.filter((f) => f.state === state).length, 0);
    return {
      titleId: input.titleId,
      features,
      assets: all,
      pending: count('pending'),
      running: count('running'),
      done: count('done'),
      failed: count('failed'),
      revision,
      runId: workflowInfo().runId,
    };
  });

  async function runOne(asset: AssetStatus, planned: PlannedFeature, workflowId: string, reason?: string) {
    setState(asset, planned.feature, { state: 'running', lastError: null });
    try {
      const value = await runFeatureChild(
        {
          feature: planned.feature,
          version: planned.version,
          entityKey: asset.assetHash,
          titleId: input.titleId,
          ...(reason ? { recompute: { reason } } : {}),
        },
        workflowId,
        input.orchestratorQueue,
      );
      setState(asset, planned.feature, { state: 'done', value });
    } catch (err) {
      setState(asset, planned.feature, { state: 'failed', lastError: failureMessage(err) });
    }
  }

  async function handleItem(item: WorkItem): Promise<void> {
    if (item.kind === 'run') {
      const asset = assets.get(item.assetHash)!;
      const plan = await planTitleFeatures(item.features);
      for (const name of plan.unknown) {
        setState(asset, name, {
          state: 'failed',
          lastError: `unknown feature "${name}": no worker serves it`,
        });
      }
      await Promise.all(
        plan.features.map((p) => runOne(asset, p, featureWorkflowId(p.feature, p.version, asset.assetHash))),
      );
      return;
    }
    const { request, requestId } = item;
    const waves = await planRecompute({
      titleFeatures: features,
      ...(request.feature ? { feature: request.feature } : {}),
      cascade: request.cascade ?? false,
    });
    const targets = request.assetHash
      ? [assets.get(request.assetHash)].filter((a): a is AssetStatus => !!a)
      : [...assets.values()];
    await Promise.all(
      targets.map(async (asset) => {
        for (const wave of waves) {
          await Promise.all(
            wave.map((p) =>
              runOne(
                asset,
                p,
                recomputeWorkflowId(p.feature, p.version, asset.assetHash, requestId),
                request.reason,
              ),
            ),
          );
        }
      }),
    );
  }

  const mustContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxHistory;

  for (;;) {
    await condition(() => (queue.length > 0 && inFlight < maxInFlight) || mustContinueAsNew());
    if (mustContinueAsNew()) {
      await condition(() => inFlight === 0 && allHandlersFinished());
      upsertMemo({ assets: assets.size, revision });
      await continueAsNew<typeof titleWorkflow>({
        ...input,
        carried: { features, assets: [...assets.values()], queue: [...queue], revision },
      });
    }
    const item = queue.shift()!;
    inFlight++;
    void handleItem(item)
      .catch((err) => log.error('title work item failed', { item, error: failureMessage(err) }))
      .finally(() => {
        inFlight--;
      });
  }
}

import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import { BAD_INPUT, type ValueRef } from '../lib/features/refs.ts';
import type {
  MatchCutInputs,
  MatchCutPlan,
  MatchCutProgress,
  MatchCutRequest,
} from '../lib/matchcut/request.ts';
import { runFeatureChild } from './feature.ts';

export interface MatchCutWorkflowInput extends MatchCutRequest {
  orchestratorQueue: string;
}

export const matchCutProgressQuery = defineQuery<MatchCutProgress>('progress');

const { planMatchCut } = proxyLocalActivities<{ planMatchCut(r: MatchCutRequest): Promise<MatchCutPlan> }>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [BAD_INPUT] },
});

/** Representations computed at once per query; each is its own feature workflow (and its dependencies). */
const CONCURRENT_ASSETS = 8;

/** The BadInput failure somewhere in an error's cause chain (an asset without video, a rejected file …). */
function badInputMessage(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type === BAD_INPUT) return e.message;
  }
  return undefined;
}

/**
 * Match cuts across a subset of titles, on demand: every asset's `matchcut-repr:<flavor>` (computed through the
 * mesh when missing; assets that cannot have one — no video, quarantined — are reported, not fatal), then the
 * scoring on the cpu queue, memoized as a `matchcut-query` value. ID `matchcut/<hash of the query>`.
 */
export async function matchCutQueryWorkflow(input: MatchCutWorkflowInput): Promise<ValueRef> {
  const { orchestratorQueue, ...request } = input;
  let progress: MatchCutProgress = { phase: 'plan', done: 0, total: 0 };
  setHandler(matchCutProgressQuery, () => progress);
  const plan = await planMatchCut(request);
  progress = { phase: 'features', done: 0, total: plan.assets.length };
  const reprs: MatchCutInputs['reprs'] = [];
  const skipped: MatchCutInputs['skipped'] = [];
  const queue = [...plan.assets];
  const lane = async () => {
    for (let a = queue.shift(); a; a = queue.shift()) {
      try {
        const ref = await runFeatureChild(
          { feature: plan.feature, version: plan.version, entityKey: a.asset, titleId: a.titleId },
          a.workflowId,
          orchestratorQueue,
        );
        reprs.push({ titleId: a.titleId, asset: a.asset, valueId: ref.valueId });
      } catch (err) {
        const reason = badInputMessage(err);
        if (reason === undefined) throw err;
        skipped.push({ titleId: a.titleId, asset: a.asset, reason });
      }
      progress = { ...progress, done: progress.done + 1 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_ASSETS, plan.assets.length) }, lane));
  // Children finish in any order; the answer must not depend on it.
  const order = (x: { titleId: string; asset: string }, y: { titleId: string; asset: string }) =>
    x.titleId === y.titleId
      ? plan.assets.findIndex((a) => a.asset === x.asset) - plan.assets.findIndex((a) => a.asset === y.asset)
      : x.titleId < y.titleId
        ? -1
        : 1;
  reprs.sort(order);
  skipped.sort(order);
  progress = { phase: 'score', done: 0, total: 1 };
  const { answerMatchCut } = proxyActivities<{ answerMatchCut(i: MatchCutInputs): Promise<ValueRef> }>({
    taskQueue: plan.cpuQueue,
    startToCloseTimeout: '2h',
    heartbeatTimeout: '60s',
    retry: {
      initialInterval: '1s',
      maximumInterval: '30s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: [BAD_INPUT],
    },
  });
  const ref = await answerMatchCut({ request, plan, reprs, skipped });
  progress = { phase: 'done', done: 1, total: 1 };
  return ref;
}

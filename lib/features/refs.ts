// Plain data shared by workflows, activities and clients. Workflow-safe: no imports with side effects.

/** A pointer to one stored feature value; what workflows pass around instead of the value itself. */
export interface ValueRef {
  valueId: string;
  feature: string;
  version: number;
  entityKey: string;
  paramsHash: string;
  attempt: number;
  objectUri: string | null;
  /** true when the value already existed and nothing was computed to return it. */
  memoHit: boolean;
}

export interface FeatureRequest {
  feature: string;
  version: number;
  entityKey: string;
  titleId?: string | undefined;
  params?: Record<string, unknown> | undefined;
  /** Set for an explicit recompute: skip the memo and store a new attempt. */
  recompute?: { reason: string } | undefined;
}

export interface DependencyPlan {
  feature: string;
  version: number;
  workflowId: string;
}

export interface FeaturePlan {
  taskQueue: string;
  paramsHash: string;
  params: Record<string, unknown>;
  dependencies: DependencyPlan[];
  startToCloseMs: number;
  heartbeatMs: number;
  maxAttempts: number;
  /** Value attempt to store: 0 normally, newest + 1 for a recompute. */
  attempt: number;
  /** Stores the value replicates to through the outbox. */
  sinks: string[];
  /** Where the outbox sync activity runs. */
  syncQueue: string;
}

export interface Resolution {
  plan: FeaturePlan;
  memo: ValueRef | null;
}

export const BAD_INPUT = 'BadInput';

/** `recompute/<name>@<version>/<entityKey>/<requestId>`: one execution per recompute request. */
export function recomputeWorkflowId(
  feature: string,
  version: number,
  entityKey: string,
  requestId: string,
): string {
  return `recompute/${feature}@${version}/${entityKey}/${requestId}`;
}

/** `title/<titleId>`: the one long-lived workflow of a title. */
export function titleWorkflowId(titleId: string): string {
  return `title/${titleId}`;
}

/** `feat/<name>@<version>/<entityKey>`, plus `/p=<hash>` when the params differ from the defaults. */
export function featureWorkflowId(
  feature: string,
  version: number,
  entityKey: string,
  paramsKey?: string,
): string {
  return `feat/${feature}@${version}/${entityKey}${paramsKey ? `/p=${paramsKey}` : ''}`;
}

/** One line for the Temporal UI (≤ 200 bytes). */
export function featureSummary(
  feature: string,
  version: number,
  entityKey: string,
  titleId?: string,
): string {
  const who = titleId ? `${titleId} · ` : '';
  return `${feature}@${version} · ${who}${entityKey.slice(0, 12)}`.slice(0, 200);
}

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
}

export interface Resolution {
  plan: FeaturePlan;
  memo: ValueRef | null;
}

export const BAD_INPUT = 'BadInput';

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

// A match-cut query as clients send it and workflows carry it (plain data, workflow-safe).
import type { PairFiltersInput } from './filters.ts';

export interface MatchCutRequest {
  titles: string[];
  flavor: string;
  k: number;
  filters?: PairFiltersInput | undefined;
  mode?: 'auto' | 'exact' | 'ann' | undefined;
}

export interface MatchCutPlan {
  /** Sorted, unique. */
  titles: string[];
  feature: string;
  version: number;
  cpuQueue: string;
  assets: { titleId: string; asset: string; workflowId: string }[];
  /** Assets of a title that are matched under an earlier title of the query (landed in both). */
  shared?: { titleId: string; asset: string; reason: string }[];
}

export interface MatchCutInputs {
  request: MatchCutRequest;
  plan: MatchCutPlan;
  reprs: { titleId: string; asset: string; valueId: string }[];
  skipped: { titleId: string; asset: string; reason: string }[];
}

export interface MatchCutProgress {
  phase: 'plan' | 'features' | 'score' | 'done';
  done: number;
  total: number;
}

export const MATCHCUT_QUERY_FEATURE = 'matchcut-query';

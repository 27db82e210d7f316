import crypto from 'node:crypto';
import { z } from 'zod';
import {
  kSchema,
  type PairFilters,
  type PairFiltersInput,
  PairInputError,
  pairFiltersSchema,
} from './filters.ts';

/** Bump when a change to the query would change its results for the same inputs. */
export const MATCHCUT_QUERY_VERSION = 1;

export const titleIdSchema = z.string().trim().min(1, 'a title id must not be empty').max(512);
export const flavorSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a flavor is lowercase letters, digits and dashes (e.g. frame, motion)');

const cacheKeySchema = z.object({
  titles: z.array(titleIdSchema).min(1, 'at least one title is needed'),
  flavor: flavorSchema,
  k: kSchema,
  filters: pairFiltersSchema.default({
    excludeWithinFrames: 0,
    excludeSameGroup: false,
    excludeSameTitle: false,
  }),
  /** Versions of the features the answer depends on, e.g. { 'matchcut-repr:frame': 2, shots: 1 }. */
  featureVersions: z.record(z.string().min(1), z.number().int().min(0)),
});

export interface CacheKeyInput {
  titles: readonly string[];
  flavor: string;
  k: number;
  filters?: PairFiltersInput;
  featureVersions: Record<string, number>;
}

/** The parameters a memoized answer is keyed by, in canonical form: sorted titles, defaults filled in. */
export interface CanonicalQuery {
  query: number;
  titles: string[];
  flavor: string;
  k: number;
  filters: PairFilters;
  featureVersions: Record<string, number>;
}

export function canonicalQuery(input: CacheKeyInput): CanonicalQuery {
  const parsed = cacheKeySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PairInputError(`invalid match-cut query: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  const p = parsed.data;
  const titles = [...p.titles].sort();
  for (let i = 1; i < titles.length; i++) {
    if (titles[i] === titles[i - 1])
      throw new PairInputError(`invalid match-cut query: title ${titles[i]} is given twice`);
  }
  const filters = Object.fromEntries(
    Object.entries(p.filters)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  ) as PairFilters;
  const featureVersions = Object.fromEntries(
    Object.entries(p.featureVersions).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return { query: MATCHCUT_QUERY_VERSION, titles, flavor: p.flavor, k: p.k, filters, featureVersions };
}

/**
 * A stable key for memoizing a cross-title answer: the same titles in any order, the same flavor, k, filters
 * (defaults filled in) and feature versions give the same key; anything else gives another.
 */
export function matchCutCacheKey(input: CacheKeyInput): string {
  const c = canonicalQuery(input);
  return `matchcut-query/v${c.query}/${crypto.createHash('sha256').update(JSON.stringify(c)).digest('hex')}`;
}

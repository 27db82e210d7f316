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

/** What every match-cut query names: which titles, which representation, how many pairs, which filters. */
export const querySubjectSchema = z.object({
  titles: z.array(titleIdSchema).min(1, 'at least one title is needed').max(100_000),
  flavor: flavorSchema,
  k: kSchema,
  filters: pairFiltersSchema.default({
    excludeWithinFrames: 0,
    excludeSameGroup: false,
    excludeSameTitle: false,
  }),
});

const cacheKeySchema = querySubjectSchema.extend({
  /** Versions of the features the answer depends on, e.g. { 'matchcut-repr:frame': 2, shots: 1 }. */
  featureVersions: z.record(z.string().min(1), z.number().int().min(0)),
});

/** Parses with a match-cut query schema and returns the data with its titles sorted and unique. */
export function parseQuerySubject<S extends typeof querySubjectSchema>(
  schema: S,
  input: unknown,
): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PairInputError(`invalid match-cut query: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  const titles = [...parsed.data.titles].sort();
  for (let i = 1; i < titles.length; i++) {
    if (titles[i] === titles[i - 1]) {
      throw new PairInputError(`invalid match-cut query: title ${titles[i]} is given twice`);
    }
  }
  return { ...parsed.data, titles };
}

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
  const p = parseQuerySubject(cacheKeySchema, input);
  const titles = p.titles;
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

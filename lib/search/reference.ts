// Reference evaluation of the query DSL over plain arrays: the specification the Postgres executor is tested
// against (identical ids in identical order), and a way to query small in-memory sets.
import type { StoredAnnotation } from './annotation.ts';
import { SearchQueryError } from './errors.ts';
import { conditionJs } from './filter.ts';
import { cosine, finishInMemory, type Scored, type SearchResult, topK } from './pipeline.ts';
import { defaultLimits, parseQuery, type SearchLimits, type SearchQuery } from './query.ts';

/**
 * Evaluates `query` (raw JSON or an already parsed query) over `annotations`, the visible set (current runs
 * only). Vectors are float4, as stored: values are rounded with Math.fround before scoring.
 */
export function evaluateQuery(
  query: unknown,
  annotations: readonly StoredAnnotation[],
  limits: SearchLimits = defaultLimits,
): SearchResult {
  return evaluateParsedQuery(parseQuery(query, limits), annotations);
}

export function evaluateParsedQuery(q: SearchQuery, annotations: readonly StoredAnnotation[]): SearchResult {
  const pred = conditionJs(q.where ?? {});
  let matches = annotations.filter(pred);
  if (q.near) {
    // The query vector is used in double precision, as the Postgres executor does; stored vectors are float4.
    let target: ArrayLike<number>;
    let self: string | undefined;
    if (q.near.vector) {
      target = q.near.vector;
    } else {
      const seed = annotations.find((a) => a.id === q.near!.annotation);
      if (!seed)
        throw new SearchQueryError('not_found', [
          { path: 'near.annotation', message: `annotation ${q.near.annotation} not found` },
        ]);
      if (!seed.vector)
        throw new SearchQueryError('invalid', [
          { path: 'near.annotation', message: `annotation ${q.near.annotation} has no vector` },
        ]);
      target = Float32Array.from(seed.vector);
      self = seed.id;
    }
    const dim = target.length;
    const scored: Scored[] = [];
    const byId = new Map<string, StoredAnnotation>();
    for (const a of matches) {
      if (!a.vector || a.vector.length !== dim || a.id === self) continue;
      scored.push({ id: a.id, score: cosine(target, Float32Array.from(a.vector)) });
      byId.set(a.id, a);
    }
    matches = topK(scored, q.near.k, q.near.minScore).map((s) => ({ ...byId.get(s.id)!, score: s.score }));
  }
  return finishInMemory(q, matches);
}

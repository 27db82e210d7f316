// The in-memory half of query evaluation: cosine scoring, k nearest, sort, keyset pages and groups. The
// reference evaluator runs all of it; the Postgres executor runs it for vector queries, after SQL has applied
// the filters, so both produce identical ids in identical order.
import type { Annotation, StoredAnnotation } from './annotation.ts';
import {
  compareKeyTuples,
  compareValues,
  decodeCursor,
  encodeCursor,
  GROUP_ORDER_KEYS,
  groupKey,
  type KeyDef,
  type KeyValue,
  sortKeys,
} from './keys.ts';
import { queryFingerprint, type SearchQuery } from './query.ts';

export interface SearchGroup {
  /** The entity (`<entityType>:<entityId>`), the type, the title id or the payload value; null when missing. */
  key: string | number | boolean | null;
  count: number;
  hits: Annotation[];
}

export interface SearchResult {
  /** Hits of this page (empty for grouped queries). */
  hits: Annotation[];
  /** Groups of this page (grouped queries only). */
  groups?: SearchGroup[];
  /** Pass as `cursor` (with the same query) for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Cosine similarity in double precision over float4 values; 0 when either vector is all zeros. */
export function cosine(q: ArrayLike<number>, v: ArrayLike<number>): number {
  let dot = 0;
  let nq = 0;
  let nv = 0;
  for (let i = 0; i < q.length; i++) {
    const a = q[i]!;
    const b = v[i]!;
    dot += a * b;
    nq += a * a;
    nv += b * b;
  }
  if (nq === 0 || nv === 0) return 0;
  return dot / (Math.sqrt(nq) * Math.sqrt(nv));
}

export interface Scored {
  id: string;
  score: number;
}

/** Keeps score ≥ minScore, then the k best by (score desc, id asc). */
export function topK(scored: Scored[], k: number, minScore: number | undefined): Scored[] {
  const kept = minScore === undefined ? scored : scored.filter((s) => s.score >= minScore);
  kept.sort((a, b) => (a.score !== b.score ? b.score - a.score : compareValues('id', a.id, b.id)));
  return kept.slice(0, k);
}

export function toHit(a: StoredAnnotation, includeVector: boolean): Annotation {
  const { vector, ...rest } = a;
  return includeVector ? { ...rest, vector } : rest;
}

/**
 * Sorts, pages and groups annotations that already passed the filters (and, for vector queries, carry their
 * score and are the k nearest).
 */
/** One page of `sorted` (ordered by `keys`): the `q.limit` items after `q.cursor`'s position, and whether more follow. */
function pageAfter<T extends { k: KeyValue[] }>(
  sorted: T[],
  keys: readonly KeyDef[],
  q: SearchQuery,
  fingerprint: string,
): { page: T[]; more: boolean } {
  let start = 0;
  if (q.cursor) {
    const after = decodeCursor(q.cursor, fingerprint, keys);
    start = sorted.findIndex((x) => compareKeyTuples(keys, x.k, after) > 0);
    if (start < 0) start = sorted.length;
  }
  return { page: sorted.slice(start, start + q.limit), more: start + q.limit < sorted.length };
}

export function finishInMemory(q: SearchQuery, matches: StoredAnnotation[]): SearchResult {
  const keys = sortKeys(q);
  const fingerprint = queryFingerprint(q);
  const withKeys = matches.map((a) => ({ a, k: keys.map((key) => key.js(a)) }));
  withKeys.sort((x, y) => compareKeyTuples(keys, x.k, y.k));
  const include = q.includeVectors === true;

  if (!q.groupBy) {
    const { page, more } = pageAfter(withKeys, keys, q, fingerprint);
    return {
      hits: page.map((x) => toHit(x.a, include)),
      nextCursor: more && page.length > 0 ? encodeCursor(fingerprint, page[page.length - 1]!.k) : null,
    };
  }

  const gk = groupKey(q.groupBy.by);
  const groups = new Map<string, { missing: boolean; text: string; members: typeof withKeys }>();
  for (const x of withKeys) {
    const { missing, text } = gk.js(x.a);
    const id = `${missing ? 1 : 0}${text}`;
    let g = groups.get(id);
    if (!g) {
      g = { missing, text, members: [] };
      groups.set(id, g);
    }
    g.members.push(x);
  }
  const ordered = [...groups.values()].map((g) => ({
    g,
    k: [g.members.length, g.missing, g.text] as KeyValue[],
  }));
  ordered.sort((x, y) => compareKeyTuples(GROUP_ORDER_KEYS, x.k, y.k));
  const { page, more } = pageAfter(ordered, GROUP_ORDER_KEYS, q, fingerprint);
  return {
    hits: [],
    groups: page.map(({ g }) => ({
      key: gk.value(g.missing, g.text),
      count: g.members.length,
      hits: g.members.slice(0, q.groupBy!.top).map((x) => toHit(x.a, include)),
    })),
    nextCursor: more && page.length > 0 ? encodeCursor(fingerprint, page[page.length - 1]!.k) : null,
  };
}

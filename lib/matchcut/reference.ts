// The plain reference: every pair i < j, canonical score, filters, one heap. O(N²·d) in JavaScript; the
// fast path must return exactly what this returns.
import { type PairOptionsInput, parsePairOptions } from './filters.ts';
import { type ScoredPair, toScoredPairs } from './result.ts';
import { ConcatenatedRows, exclusionTest, type PairSource } from './sources.ts';
import { TopKHeap } from './topk.ts';

export function scorePairsReference(sources: readonly PairSource[], options: PairOptionsInput): ScoredPair[] {
  const opts = parsePairOptions(options);
  const rows = new ConcatenatedRows(sources);
  const excluded = exclusionTest(rows, opts);
  const heap = new TopKHeap(opts.k);
  const minScore = opts.minScore ?? Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.rows; i++) {
    for (let j = i + 1; j < rows.rows; j++) {
      if (excluded?.(i, j)) continue;
      const s = rows.canonicalScore(i, j);
      if (s >= minScore) heap.offer(s, i, j);
    }
  }
  return toScoredPairs(rows, heap.sorted());
}

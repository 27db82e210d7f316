import type { ConcatenatedRows } from './sources.ts';
import type { Pair } from './topk.ts';

/** One scored pair: the first shot ranks before the second in the sources' order (title order, then row). */
export interface ScoredPair {
  title1: string;
  shot1: number;
  title2: string;
  shot2: number;
  score: number;
  /** Rows in the titles' matrices (equal to the shot index unless the matrix skips shots). */
  row1: number;
  row2: number;
}

export function toScoredPairs(rows: ConcatenatedRows, pairs: readonly Pair[]): ScoredPair[] {
  return pairs.map(({ i, j, score }) => {
    const si = rows.source[i]!;
    const sj = rows.source[j]!;
    const ri = rows.local[i]!;
    const rj = rows.local[j]!;
    return {
      title1: rows.sources[si]!.id,
      shot1: rows.sources[si]!.matrix.shots[ri]!.shot,
      title2: rows.sources[sj]!.id,
      shot2: rows.sources[sj]!.matrix.shots[rj]!.shot,
      score,
      row1: ri,
      row2: rj,
    };
  });
}

// Several titles' matrices seen as one logical matrix: global row g belongs to one source (title) at one
// local row. Nothing is concatenated up front; blocks that straddle two sources are copied when asked for.
import type { VectorMatrix } from '../vector/matrix.ts';
import { type PairFilters, PairInputError } from './filters.ts';

export interface PairSource {
  /** The title id (or any id unique among the sources). */
  id: string;
  matrix: VectorMatrix;
}

export class ConcatenatedRows {
  readonly rows: number;
  readonly dim: number;
  /** Per global row: source index, local row, frame range and group (-1: none). */
  readonly source: Int32Array;
  readonly local: Int32Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly group: Int32Array;
  /** First global row of each source, plus the total at the end. */
  readonly offsets: number[];

  constructor(readonly sources: readonly PairSource[]) {
    if (sources.length === 0) throw new PairInputError('no matrices to score');
    const ids = new Set<string>();
    const dim = sources[0]!.matrix.dim;
    this.offsets = [0];
    for (const [s, { id, matrix: m }] of sources.entries()) {
      if (ids.has(id)) throw new PairInputError(`source ${id} is given twice`);
      ids.add(id);
      if (m.rows < 1) throw new PairInputError(`matrix of ${id} is empty`);
      if (m.dim !== dim) {
        throw new PairInputError(
          `dimension mismatch: ${id} has ${m.dim}-d rows, ${sources[0]!.id} has ${dim}-d`,
        );
      }
      if (m.data.length !== m.rows * m.dim || m.shots.length !== m.rows) {
        throw new PairInputError(
          `matrix of ${id} is inconsistent: ${m.rows} rows, ${m.data.length} values, ${m.shots.length} shots`,
        );
      }
      this.offsets.push(this.offsets[s]! + m.rows);
    }
    this.dim = dim;
    this.rows = this.offsets[sources.length]!;
    if (this.rows > 0x7fff_ffff) throw new PairInputError(`${this.rows} rows are too many to score`);
    this.source = new Int32Array(this.rows);
    this.local = new Int32Array(this.rows);
    this.start = new Float64Array(this.rows);
    this.end = new Float64Array(this.rows);
    this.group = new Int32Array(this.rows);
    sources.forEach(({ matrix: m }, s) => {
      const o = this.offsets[s]!;
      for (let r = 0; r < m.rows; r++) {
        const shot = m.shots[r]!;
        this.source[o + r] = s;
        this.local[o + r] = r;
        this.start[o + r] = shot.start;
        this.end[o + r] = shot.end;
        this.group[o + r] = shot.group ?? -1;
      }
    });
  }

  /** Rows [from, to) as one contiguous array: a view when they lie in one source, else a copy. */
  slice(from: number, to: number): Float32Array {
    const d = this.dim;
    const s0 = this.source[from]!;
    if (this.source[to - 1] === s0) {
      const o = this.offsets[s0]!;
      return this.sources[s0]!.matrix.data.subarray((from - o) * d, (to - o) * d);
    }
    const out = new Float32Array((to - from) * d);
    for (let g = from; g < to; ) {
      const s = this.source[g]!;
      const o = this.offsets[s]!;
      const upto = Math.min(to, this.offsets[s + 1]!);
      out.set(this.sources[s]!.matrix.data.subarray((g - o) * d, (upto - o) * d), (g - from) * d);
      g = upto;
    }
    return out;
  }

  /** The given rows (global indices), copied into one contiguous array. */
  gather(ids: Int32Array): Float32Array {
    const d = this.dim;
    const out = new Float32Array(ids.length * d);
    for (let x = 0; x < ids.length; x++) {
      const g = ids[x]!;
      const data = this.sources[this.source[g]!]!.matrix.data;
      const o = this.local[g]! * d;
      out.set(data.subarray(o, o + d), x * d);
    }
    return out;
  }

  /** Row g as a view into its source matrix. */
  row(g: number): Float32Array {
    const d = this.dim;
    const o = this.local[g]! * d;
    return this.sources[this.source[g]!]!.matrix.data.subarray(o, o + d);
  }

  /**
   * The score every implementation agrees on: the dot product of the two stored float32 rows accumulated in
   * float64 in column order, rounded to float32. Fast kernels only pick candidates; this decides.
   */
  canonicalScore(i: number, j: number): number {
    const d = this.dim;
    const a = this.sources[this.source[i]!]!.matrix.data;
    const b = this.sources[this.source[j]!]!.matrix.data;
    const ao = this.local[i]! * d;
    const bo = this.local[j]! * d;
    let sum = 0;
    for (let c = 0; c < d; c++) sum += a[ao + c]! * b[bo + c]!;
    return Math.fround(sum);
  }
}

/** Builds the exclusion test for the filters; returns null when nothing is excluded. */
export function exclusionTest(
  rows: ConcatenatedRows,
  f: PairFilters,
): ((i: number, j: number) => boolean) | null {
  const within = f.excludeWithinFrames;
  const sameGroup = f.excludeSameGroup;
  const sameTitle = f.excludeSameTitle;
  if (!within && !sameGroup && !sameTitle) return null;
  const { source, start, end, group } = rows;
  return (i, j) => {
    if (source[i] !== source[j]) return false;
    if (sameTitle) return true;
    if (sameGroup && group[i]! >= 0 && group[i] === group[j]) return true;
    if (within > 0) {
      const gap = Math.max(start[i]!, start[j]!) - Math.min(end[i]!, end[j]!);
      if (gap < within) return true;
    }
    return false;
  };
}

// The blocked scan shared by exact scoring and the IVF join: tiles of S = X·Xᵀ over a set of rows (upper
// triangle only) from a block kernel, a scan that keeps the pairs that can still enter the top K, and one
// K-pair heap across every call. Memory: one tile plus the heap, never the score matrix.
//
// Exactness: a kernel's scores differ from the canonical score (ConcatenatedRows.canonicalScore) by at most
// the bound it reports for each tile (ε). Once the heap is full with worst canonical score w, a pair whose
// kernel score is below w − ε cannot enter it and is skipped; every other pair is rescored canonically and
// offered.
import type { PairOptions } from './filters.ts';
import type { BlockKernel } from './kernel.ts';
import { type ConcatenatedRows, exclusionTest } from './sources.ts';
import { TopKHeap } from './topk.ts';

export interface ScanStats {
  tiles: number;
  flops: number;
  rescored: number;
}

export class PairScan {
  readonly heap: TopKHeap;
  readonly stats: ScanStats = { tiles: 0, flops: 0, rescored: 0 };
  private readonly minScore: number;
  /** Canonical score a pair needs to enter: the heap's worst once full, and at least minScore. */
  private target: number;
  private readonly excluded: ((i: number, j: number) => boolean) | null;
  private readonly scores: Float32Array;
  private readonly rowMax: Float32Array;
  private readonly B: number;

  constructor(
    private readonly rows: ConcatenatedRows,
    private readonly opts: PairOptions,
    private readonly kernel: BlockKernel,
    blockRows: number,
    private readonly signal?: AbortSignal,
  ) {
    this.B = Math.max(1, Math.min(blockRows, rows.rows));
    this.minScore = opts.minScore ?? Number.NEGATIVE_INFINITY;
    this.target = this.minScore;
    this.excluded = exclusionTest(rows, opts);
    this.heap = new TopKHeap(opts.k);
    this.scores = new Float32Array(this.B * this.B);
    this.rowMax = new Float32Array(this.B);
  }

  /** Tiles a call over `count` rows will compute (for progress reports). */
  tilesFor(count: number): number {
    const nb = Math.ceil(count / this.B);
    return (nb * (nb + 1)) / 2;
  }

  /**
   * Scores every pair of the given rows (global indices, ascending; all rows when null). `accept`, when
   * given, decides for each candidate pair whether this call owns it (the IVF join scores a pair in one
   * partition only).
   */
  async scan(
    members: Int32Array | null,
    accept?: (i: number, j: number) => boolean,
    onTile?: () => void,
  ): Promise<void> {
    const { rows, B } = this;
    const N = members ? members.length : rows.rows;
    if (N < 2) return;
    const nb = Math.ceil(N / B);
    const dim = rows.dim;
    const global = members ? (x: number) => members[x]! : (x: number) => x;
    const cache = new Map<number, Float32Array>();
    const block = (b: number) => {
      let data = cache.get(b);
      if (!data) {
        const from = b * B;
        const to = Math.min(N, from + B);
        data = members ? rows.gather(members.subarray(from, to)) : rows.slice(from, to);
        cache.set(b, data);
      }
      return data;
    };
    // Rows are in ascending global order and sources are contiguous, so first and last decide.
    const sameSourceTile = (bi: number, bj: number) => {
      const s = rows.source[global(bi * B)]!;
      for (const b of [bi, bj]) {
        const from = b * B;
        const to = Math.min(N, from + B);
        if (rows.source[global(from)] !== s || rows.source[global(to - 1)] !== s) return false;
      }
      return true;
    };
    const { scores, rowMax, heap, minScore, excluded } = this;
    for (let bi = 0; bi < nb; bi++) {
      const i0 = bi * B;
      const m = Math.min(B, N - i0);
      const a = block(bi);
      for (let bj = bi; bj < nb; bj++) {
        this.signal?.throwIfAborted();
        if (this.opts.excludeSameTitle && sameSourceTile(bi, bj)) {
          onTile?.();
          continue;
        }
        const j0 = bj * B;
        const n = Math.min(B, N - j0);
        const err = await this.kernel.product(a, m, block(bj), n, dim, scores, rowMax);
        this.stats.tiles++;
        this.stats.flops += 2 * m * n * dim;
        let target = this.target;
        // A pair whose kernel score is below this cannot reach the target canonically.
        let floor = target - err;
        for (let r = 0; r < m; r++) {
          if (rowMax[r]! < floor) continue;
          const gi = global(i0 + r);
          const base = r * n;
          for (let c = bi === bj ? r + 1 : 0; c < n; c++) {
            if (scores[base + c]! < floor) continue;
            const gj = global(j0 + c);
            if (excluded?.(gi, gj)) continue;
            if (accept && !accept(gi, gj)) continue;
            this.stats.rescored++;
            const s = rows.canonicalScore(gi, gj);
            if (s < minScore) continue;
            if (heap.offer(s, gi, gj) && heap.full) {
              target = Math.max(minScore, heap.worstScore);
              floor = target - err;
            }
          }
        }
        this.target = target;
        onTile?.();
      }
      // Row block bi is never a column block again once its own row pass is done.
      cache.delete(bi);
    }
  }
}

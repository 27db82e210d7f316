// The blocked scan shared by exact scoring and the IVF join: tiles of S = X·Xᵀ over a set of rows (upper
// triangle only) from a block kernel, a scan that keeps the pairs that can still enter the top K, and one
// K-pair heap across every call. Memory: one tile plus the heap, never the score matrix.
//
// Exactness: the kernel's float32 scores differ from the canonical score (ConcatenatedRows.canonicalScore)
// by at most ε = scoreErrorBound(dim). Once the heap is full with worst canonical score w, a pair whose fast
// score is below w − ε cannot enter it and is skipped; every other pair is rescored canonically and offered.
import type { PairOptions } from './filters.ts';
import { type BlockKernel, scoreErrorBound } from './kernel.ts';
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
  private readonly eps: number;
  private readonly minFloor: number;
  private readonly minScore: number;
  private floor: number;
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
    this.eps = scoreErrorBound(rows.dim);
    this.minScore = opts.minScore ?? Number.NEGATIVE_INFINITY;
    this.minFloor = this.minScore - this.eps;
    this.floor = this.minFloor;
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
    const { scores, rowMax, heap, eps, minFloor, minScore, excluded } = this;
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
        await this.kernel.product(a, m, block(bj), n, dim, scores, rowMax);
        this.stats.tiles++;
        this.stats.flops += 2 * m * n * dim;
        let floor = this.floor;
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
            if (heap.offer(s, gi, gj) && heap.full) floor = Math.max(minFloor, heap.worstScore - eps);
          }
        }
        this.floor = floor;
        onTile?.();
      }
      // Row block bi is never a column block again once its own row pass is done.
      cache.delete(bi);
    }
  }
}

// Exact top-K pair scoring as a blocked matrix product: tiles of S = X·Xᵀ (upper triangle only) come from a
// block kernel, a scan keeps the pairs that can still enter the top K, and a K-pair heap holds the answer.
// The full score matrix is never materialized: memory is one tile plus the heap.
//
// Exactness: the kernel's float32 scores differ from the canonical score (see ConcatenatedRows) by at most
// ε = scoreErrorBound(dim). Once the heap is full with worst canonical score w, a pair whose fast score is
// below w − ε cannot enter it, so it is skipped; every other pair is rescored canonically and offered. The
// result is therefore exactly the reference implementation's, ties included.
import { type PairOptionsInput, parsePairOptions } from './filters.ts';
import { type BlockKernel, JsBlockKernel, scoreErrorBound } from './kernel.ts';
import { OnnxBlockKernel } from './onnx-kernel.ts';
import { type ScoredPair, toScoredPairs } from './result.ts';
import { ConcatenatedRows, exclusionTest, type PairSource } from './sources.ts';
import { TopKHeap } from './topk.ts';

export const DEFAULT_BLOCK_ROWS = 2048;

export interface ScorePairsOptions extends PairOptionsInput {
  /** Rows per tile side; default 2048. */
  blockRows?: number;
  /** A kernel to use (and keep open), or which one to create: 'onnx' (default) or 'js'. */
  kernel?: BlockKernel | 'onnx' | 'js';
  /** Intra-op threads of a kernel created here; default every core. */
  threads?: number;
  /** Called after every tile, e.g. to heartbeat. */
  onProgress?: (tilesDone: number, tilesTotal: number) => void;
  signal?: AbortSignal;
}

export interface ScoringStats {
  rows: number;
  dim: number;
  kernel: string;
  tiles: number;
  /** Multiply-adds × 2 of the tiles actually computed. */
  flops: number;
  /** Pairs whose fast score was high enough to be rescored canonically. */
  rescored: number;
  ms: number;
}

export interface PairScoringResult {
  pairs: ScoredPair[];
  stats: ScoringStats;
}

async function openKernel(
  choice: ScorePairsOptions['kernel'],
  threads: number | undefined,
): Promise<{ kernel: BlockKernel; owned: boolean }> {
  if (choice && typeof choice === 'object') return { kernel: choice, owned: false };
  if (choice === 'js') return { kernel: new JsBlockKernel(), owned: true };
  return { kernel: await OnnxBlockKernel.create(threads === undefined ? {} : { threads }), owned: true };
}

/**
 * The K best pairs (i < j in the sources' order) of all rows of all sources, best first; ties rank by row
 * order. Filters decide which pairs count (same-title frame distance, same group, same title, min score).
 */
export async function scorePairs(
  sources: readonly PairSource[],
  options: ScorePairsOptions,
): Promise<PairScoringResult> {
  const {
    blockRows = DEFAULT_BLOCK_ROWS,
    kernel: kernelChoice,
    threads,
    onProgress,
    signal,
    ...rest
  } = options;
  const opts = parsePairOptions(rest);
  if (!Number.isInteger(blockRows) || blockRows < 1 || blockRows > 16_384) {
    throw new RangeError(`blockRows must be an integer in 1…16384, got ${blockRows}`);
  }
  const t0 = performance.now();
  const rows = new ConcatenatedRows(sources);
  const { dim } = rows;
  const N = rows.rows;
  const B = Math.min(blockRows, N);
  const nb = Math.ceil(N / B);
  const eps = scoreErrorBound(dim);
  const minFloor = opts.minScore === undefined ? Number.NEGATIVE_INFINITY : opts.minScore - eps;
  const minScore = opts.minScore ?? Number.NEGATIVE_INFINITY;
  const excluded = exclusionTest(rows, opts);
  const heap = new TopKHeap(opts.k);
  const scores = new Float32Array(B * B);
  const rowMax = new Float32Array(B);
  const blocks = new Map<number, Float32Array>();
  const block = (b: number) => {
    let data = blocks.get(b);
    if (!data) {
      data = rows.slice(b * B, Math.min(N, (b + 1) * B));
      blocks.set(b, data);
    }
    return data;
  };
  const sameSourceTile = (bi: number, bj: number) => {
    const i0 = bi * B;
    const j0 = bj * B;
    const i1 = Math.min(N, i0 + B);
    const j1 = Math.min(N, j0 + B);
    return rows.singleSource(i0, i1) && rows.singleSource(j0, j1) && rows.source[i0] === rows.source[j0];
  };

  const { kernel, owned } = await openKernel(kernelChoice, threads);
  const tilesTotal = (nb * (nb + 1)) / 2;
  let tilesDone = 0;
  let tiles = 0;
  let flops = 0;
  let rescored = 0;
  let floor = minFloor;
  try {
    for (let bi = 0; bi < nb; bi++) {
      const i0 = bi * B;
      const m = Math.min(B, N - i0);
      const a = block(bi);
      for (let bj = bi; bj < nb; bj++) {
        signal?.throwIfAborted();
        tilesDone++;
        if (opts.excludeSameTitle && sameSourceTile(bi, bj)) continue;
        const j0 = bj * B;
        const n = Math.min(B, N - j0);
        await kernel.product(a, m, block(bj), n, dim, scores, rowMax);
        tiles++;
        flops += 2 * m * n * dim;
        for (let r = 0; r < m; r++) {
          if (rowMax[r]! < floor) continue;
          const gi = i0 + r;
          const base = r * n;
          for (let c = bi === bj ? r + 1 : 0; c < n; c++) {
            if (scores[base + c]! < floor) continue;
            const gj = j0 + c;
            if (excluded?.(gi, gj)) continue;
            rescored++;
            const s = rows.canonicalScore(gi, gj);
            if (s < minScore) continue;
            if (heap.offer(s, gi, gj) && heap.full) floor = Math.max(minFloor, heap.worstScore - eps);
          }
        }
        onProgress?.(tilesDone, tilesTotal);
      }
      // A row block is not needed as a column block again once every later row block has passed it.
      blocks.delete(bi);
    }
  } finally {
    if (owned) await kernel.close();
  }
  return {
    pairs: toScoredPairs(rows, heap.sorted()),
    stats: { rows: N, dim, kernel: kernel.name, tiles, flops, rescored, ms: performance.now() - t0 },
  };
}

// Exact top-K pair scoring as a blocked matrix product with a top-K heap (see scan.ts); the answer is
// exactly the reference implementation's, ties included.
import os from 'node:os';
import { type PairOptionsInput, parsePairOptions } from './filters.ts';
import { type BlockKernel, JsBlockKernel } from './kernel.ts';
import { OnnxInt8BlockKernel } from './onnx-int8-kernel.ts';
import { OnnxBlockKernel } from './onnx-kernel.ts';
import { type ScoredPair, toScoredPairs } from './result.ts';
import { PairScan } from './scan.ts';
import { ConcatenatedRows, type PairSource } from './sources.ts';

export const DEFAULT_BLOCK_ROWS = 2048;

export type KernelName = 'onnx-int8' | 'onnx-fp32' | 'js';

export interface ScorePairsOptions extends PairOptionsInput {
  /** Rows per tile side; default 2048. */
  blockRows?: number;
  /**
   * A kernel to use (and keep open), or which one to create: 'onnx-int8' (default: int8 GEMM picks the
   * candidates, float32 for tiles it cannot bound tightly), 'onnx-fp32' or 'js'. All give the same answer.
   */
  kernel?: BlockKernel | KernelName;
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
  /** 2 × multiply-adds of the tiles actually computed. */
  flops: number;
  /** Pairs whose fast score was high enough to be rescored canonically. */
  rescored: number;
  ms: number;
}

export interface PairScoringResult {
  pairs: ScoredPair[];
  stats: ScoringStats;
}

export async function openKernel(
  choice: ScorePairsOptions['kernel'],
  threads: number | undefined,
): Promise<{ kernel: BlockKernel; owned: boolean }> {
  if (choice && typeof choice === 'object') return { kernel: choice, owned: false };
  if (choice === 'js') return { kernel: new JsBlockKernel(), owned: true };
  const options = { threads: threads ?? os.availableParallelism() };
  if (choice === 'onnx-fp32') return { kernel: await OnnxBlockKernel.create(options), owned: true };
  return { kernel: await OnnxInt8BlockKernel.create(options), owned: true };
}

export function checkBlockRows(blockRows: number): number {
  if (!Number.isInteger(blockRows) || blockRows < 1 || blockRows > 16_384) {
    throw new RangeError(`blockRows must be an integer in 1…16384, got ${blockRows}`);
  }
  return blockRows;
}

/**
 * Validates the options, builds the logical concatenation, opens the kernel (closing it after when it was
 * created here) and hands a fresh scan to `body`, which decides which rows to scan. `tick(total)` gives a
 * per-tile progress callback for a run of `total` tiles.
 */
export async function runScan<T>(
  sources: readonly PairSource[],
  options: ScorePairsOptions,
  body: (
    rows: ConcatenatedRows,
    kernel: BlockKernel,
    scan: PairScan,
    tick: (total: number) => () => void,
  ) => Promise<T>,
): Promise<PairScoringResult & { extra: T }> {
  const {
    blockRows = DEFAULT_BLOCK_ROWS,
    kernel: kernelChoice,
    threads,
    onProgress,
    signal,
    ...rest
  } = options;
  const opts = parsePairOptions(rest);
  checkBlockRows(blockRows);
  const t0 = performance.now();
  const rows = new ConcatenatedRows(sources);
  const { kernel, owned } = await openKernel(kernelChoice, threads);
  try {
    const scan = new PairScan(rows, opts, kernel, blockRows, signal);
    let done = 0;
    const extra = await body(rows, kernel, scan, (total) => () => onProgress?.(++done, total));
    return {
      pairs: toScoredPairs(rows, scan.heap.sorted()),
      stats: {
        rows: rows.rows,
        dim: rows.dim,
        kernel: kernel.name,
        ...scan.stats,
        ms: performance.now() - t0,
      },
      extra,
    };
  } finally {
    if (owned) await kernel.close();
  }
}

/**
 * The K best pairs (i < j in the sources' order) of all rows of all sources, best first; ties rank by row
 * order. Filters decide which pairs count (same-title frame distance, same group, same title, min score).
 */
export async function scorePairs(
  sources: readonly PairSource[],
  options: ScorePairsOptions,
): Promise<PairScoringResult> {
  const { pairs, stats } = await runScan(sources, options, (rows, _kernel, scan, tick) =>
    scan.scan(null, undefined, tick(scan.tilesFor(rows.rows))),
  );
  return { pairs, stats };
}

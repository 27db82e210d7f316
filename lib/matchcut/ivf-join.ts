// Approximate top-K pairs for subsets too large to score exactly: an inverted-file (IVF) self-join.
// Spherical k-means (seeded, on a sample) splits the rows into √N partitions; every row joins its `nprobe`
// nearest partitions; each partition is scored exactly with the same blocked kernel, and a pair is counted
// in the first partition its two rows share. Work drops from N² to about N²·nprobe²/P, and pairs of very
// similar rows (the ones a top K is made of) almost always share a partition. Found pairs carry their exact
// canonical score; only pairs whose rows share no partition can be missed.
import type { BlockKernel } from './kernel.ts';
import { type PairScoringResult, runScan, type ScorePairsOptions } from './pairs.ts';
import { seededRandom } from './random.ts';
import type { ConcatenatedRows, PairSource } from './sources.ts';

export interface IvfOptions {
  /** Partitions; default round(√rows), at most 4096. */
  partitions?: number;
  /** Partitions each row joins; default 2. */
  nprobe?: number;
  /** k-means rounds; default 4. */
  iterations?: number;
  /** Rows k-means trains on; default min(rows, max(16 × partitions, 4,096)). */
  sample?: number;
  seed?: number;
}

export interface IvfStats {
  partitions: number;
  nprobe: number;
  /** Rows of the largest partition. */
  largest: number;
  trainMs: number;
}

/** Writes, for each of `count` rows of `data`, the indices of its `top` most similar centroids (ascending). */
async function nearestCentroids(
  kernel: BlockKernel,
  data: (from: number, to: number) => Float32Array,
  count: number,
  centroids: Float32Array,
  P: number,
  dim: number,
  top: number,
  out: Int32Array,
): Promise<void> {
  const B = Math.max(1, Math.min(2048, Math.floor(8_000_000 / P)));
  const scores = new Float32Array(B * P);
  const rowMax = new Float32Array(B);
  const best = new Float64Array(top);
  const bestIdx = new Int32Array(top);
  for (let from = 0; from < count; from += B) {
    const m = Math.min(B, count - from);
    await kernel.product(data(from, from + m), m, centroids, P, dim, scores, rowMax);
    for (let r = 0; r < m; r++) {
      best.fill(Number.NEGATIVE_INFINITY);
      for (let c = 0; c < P; c++) {
        const s = scores[r * P + c]!;
        if (s <= best[top - 1]!) continue;
        let x = top - 1;
        while (x > 0 && best[x - 1]! < s) {
          best[x] = best[x - 1]!;
          bestIdx[x] = bestIdx[x - 1]!;
          x--;
        }
        best[x] = s;
        bestIdx[x] = c;
      }
      const picked = Array.from(bestIdx).sort((a, b) => a - b);
      out.set(picked, (from + r) * top);
    }
  }
}

/** Spherical k-means on a sample; returns P unit centroids (row-major). */
async function trainCentroids(
  rows: ConcatenatedRows,
  kernel: BlockKernel,
  P: number,
  sampleSize: number,
  iterations: number,
  seed: number,
): Promise<Float32Array> {
  const { dim } = rows;
  const rand = seededRandom(seed);
  const ids = Int32Array.from({ length: rows.rows }, (_, i) => i);
  for (let i = 0; i < sampleSize; i++) {
    const j = i + Math.floor(rand() * (rows.rows - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const sample = rows.gather(ids.subarray(0, sampleSize).sort());
  let centroids = sample.slice(0, P * dim);
  const assign = new Int32Array(sampleSize);
  const sums = new Float64Array(P * dim);
  const counts = new Int32Array(P);
  for (let it = 0; it < iterations; it++) {
    await nearestCentroids(
      kernel,
      (a, b) => sample.subarray(a * dim, b * dim),
      sampleSize,
      centroids,
      P,
      dim,
      1,
      assign,
    );
    sums.fill(0);
    counts.fill(0);
    for (let r = 0; r < sampleSize; r++) {
      const p = assign[r]!;
      counts[p]!++;
      const so = p * dim;
      const ro = r * dim;
      for (let c = 0; c < dim; c++) sums[so + c] = sums[so + c]! + sample[ro + c]!;
    }
    // A new array each round: kernels may cache work per array object.
    centroids = new Float32Array(P * dim);
    for (let p = 0; p < P; p++) {
      // An empty partition restarts from a random sample row (deterministic: seeded).
      const src = counts[p] ? null : Math.floor(rand() * sampleSize);
      let norm = 0;
      for (let c = 0; c < dim; c++) {
        const v = src === null ? sums[p * dim + c]! : sample[src * dim + c]!;
        centroids[p * dim + c] = v;
        norm += v * v;
      }
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let c = 0; c < dim; c++) centroids[p * dim + c]! *= inv;
    }
  }
  return centroids;
}

/** Approximate top-K pairs of all rows of all sources (same order, filters and scores as scorePairs). */
export async function ivfJoinPairs(
  sources: readonly PairSource[],
  options: ScorePairsOptions & { ivf?: IvfOptions },
): Promise<PairScoringResult & { ivf: IvfStats }> {
  const { ivf = {}, ...scoring } = options;
  const t0 = performance.now();
  const { pairs, stats, extra } = await runScan(sources, scoring, async (rows, kernel, scan, tick) => {
    const N = rows.rows;
    const P = Math.max(1, Math.min(4096, ivf.partitions ?? Math.round(Math.sqrt(N)), N));
    const nprobe = Math.max(1, Math.min(ivf.nprobe ?? 2, P));
    const sampleSize = Math.min(N, Math.max(P, ivf.sample ?? Math.max(16 * P, 4096)));
    const centroids = await trainCentroids(rows, kernel, P, sampleSize, ivf.iterations ?? 4, ivf.seed ?? 1);
    const assign = new Int32Array(N * nprobe);
    await nearestCentroids(kernel, (a, b) => rows.slice(a, b), N, centroids, P, rows.dim, nprobe, assign);
    const trainMs = performance.now() - t0;
    const sizes = new Int32Array(P);
    for (const p of assign) sizes[p]!++;
    const members = Array.from(sizes, (n) => new Int32Array(n));
    const fill = new Int32Array(P);
    for (let g = 0; g < N; g++) {
      for (let x = 0; x < nprobe; x++) {
        const p = assign[g * nprobe + x]!;
        members[p]![fill[p]!++] = g;
      }
    }
    // The first partition both rows joined owns the pair (each row's list is ascending).
    const owner = (i: number, j: number) => {
      let a = i * nprobe;
      let b = j * nprobe;
      const ae = a + nprobe;
      const be = b + nprobe;
      while (a < ae && b < be) {
        const pa = assign[a]!;
        const pb = assign[b]!;
        if (pa === pb) return pa;
        if (pa < pb) a++;
        else b++;
      }
      return -1;
    };
    const onTile = tick(members.reduce((sum, m) => sum + scan.tilesFor(m.length), 0));
    for (let p = 0; p < P; p++) await scan.scan(members[p]!, (i, j) => owner(i, j) === p, onTile);
    return { partitions: P, nprobe, largest: Math.max(...sizes), trainMs };
  });
  return { pairs, stats, ivf: extra };
}

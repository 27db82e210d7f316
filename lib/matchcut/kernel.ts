// A block kernel computes one tile of the score matrix: S = A · Bᵀ for a block of m rows against a block of
// n rows, plus the maximum of every row of S (lets the scan skip rows with nothing above the threshold),
// and says how far its scores may be from the canonical ones.

export interface BlockKernel {
  readonly name: string;
  /**
   * Writes S (m × n, row-major) into `scores` and each row's maximum into `rowMax`; resolves to an upper
   * bound of |S[r][c] − canonical score| for this tile. `a` holds m × dim values, `b` n × dim; `scores` at
   * least m × n, `rowMax` at least m. Kernels may cache work per array object: callers must not change the
   * contents of an array they have passed in.
   */
  product(
    a: Float32Array,
    m: number,
    b: Float32Array,
    n: number,
    dim: number,
    scores: Float32Array,
    rowMax: Float32Array,
  ): Promise<number>;
  close(): Promise<void>;
}

/**
 * Upper bound of |fast score − canonical score| for unit rows of `dim` values: a float32 dot product of
 * unit vectors in any summation order is within γ_d = d·u/(1−d·u) of the exact value (u = 2⁻²⁴, Cauchy–
 * Schwarz bounds Σ|aᵢbᵢ| by 1), and the canonical score is within u of it. 1% covers the rows' norms, which
 * are 1 only to float32 precision.
 */
export function scoreErrorBound(dim: number): number {
  const u = 2 ** -24;
  const n = dim + 2;
  return ((n * u) / (1 - n * u)) * 1.01 + u;
}

/** Plain-loop kernel: no native code, used for tiny blocks and where onnxruntime is unavailable. */
export class JsBlockKernel implements BlockKernel {
  readonly name = 'js';

  async product(
    a: Float32Array,
    m: number,
    b: Float32Array,
    n: number,
    dim: number,
    scores: Float32Array,
    rowMax: Float32Array,
  ): Promise<number> {
    for (let r = 0; r < m; r++) {
      const ao = r * dim;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < n; c++) {
        const bo = c * dim;
        let sum = 0;
        for (let x = 0; x < dim; x++) sum += a[ao + x]! * b[bo + x]!;
        const s = Math.fround(sum);
        scores[r * n + c] = s;
        if (s > max) max = s;
      }
      rowMax[r] = max;
    }
    return scoreErrorBound(dim);
  }

  async close(): Promise<void> {}
}

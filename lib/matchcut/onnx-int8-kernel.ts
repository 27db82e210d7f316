// An int8 block kernel: inside the graph, rows are quantized (A: uint8, one scale per block, zero point 128;
// B: int8, one scale per row, then transposed) and onnxruntime's MatMulIntegerToFloat (MLAS u8×s8 GEMM,
// VNNI where the CPU has it) writes float scores directly, followed by ReduceMax per row. It only picks candidates: the
// bound it reports covers the quantization error, so the scan's canonical rescoring keeps answers exact.
//
// Bound: with a = s_A(q_a + δ_a) and b = s_b(q_b + δ_b), |δ| ≤ ½, the error of s_A·s_b·Σ q_a q_b against the
// exact a·b is at most s_A·s_b·(½Σ|q_a| + ½Σ|q_b| + ¼d), and Σ|q| ≤ Σ|x|/s + d/2; a few float32 ulps cover
// the output scaling and the canonical score's own rounding. The per-row maxima and L1 norms behind the
// scales and the bound are computed once per block array and cached. Dense unit vectors (max |x| ≈ 0.2 at 512-d) give a bound of ≈ 0.035; a
// block with a spiky row (a large max |x|) would give a loose one and flood the scan with candidates, so
// tiles whose bound would exceed `maxBound` are computed in float32 instead.
import os from 'node:os';
import ort from 'onnxruntime-node';
import { buildModel, MS_DOMAIN } from '../onnx/graph.ts';
import type { BlockKernel } from './kernel.ts';
import { OnnxBlockKernel, type OnnxKernelOptions } from './onnx-kernel.ts';

const U = 2 ** -24;

/** Per-block statistics the quantization and its error bound need (one JS pass, cached per array). */
interface BlockStats {
  /** max |x| over the block, and per row */
  maxAbs: number;
  rowScales: Float32Array;
  /** max over rows of Σ|x| */
  maxL1: number;
}

function blockStats(data: Float32Array, rows: number, dim: number): BlockStats {
  const rowScales = new Float32Array(rows);
  let maxAbs = 0;
  let maxL1 = 0;
  for (let r = 0; r < rows; r++) {
    let rowMax = 0;
    let l1 = 0;
    for (let c = r * dim, e = c + dim; c < e; c++) {
      const v = Math.abs(data[c]!);
      l1 += v;
      if (v > rowMax) rowMax = v;
    }
    rowScales[r] = rowMax > 0 ? rowMax / 127 : 1;
    if (rowMax > maxAbs) maxAbs = rowMax;
    if (l1 > maxL1) maxL1 = l1;
  }
  return { maxAbs, rowScales, maxL1 };
}

export function int8ProductModel(): Uint8Array {
  return buildModel({
    name: 'mediamesh_block_product_int8',
    inputs: [
      { name: 'a', type: 'float32', shape: ['m', 'd'] },
      { name: 'b', type: 'float32', shape: ['n', 'd'] },
      { name: 'a_scale', type: 'float32', shape: [] },
      { name: 'b_scale', type: 'float32', shape: ['n'] },
      { name: 'a_zero', type: 'uint8', shape: [] },
      { name: 'b_zero', type: 'int8', shape: ['n'] },
    ],
    outputs: [
      { name: 'scores', type: 'float32', shape: ['m', 'n'] },
      { name: 'row_max', type: 'float32', shape: ['m'] },
    ],
    nodes: [
      { op: 'QuantizeLinear', inputs: ['a', 'a_scale', 'a_zero'], outputs: ['qa'] },
      {
        op: 'QuantizeLinear',
        inputs: ['b', 'b_scale', 'b_zero'],
        outputs: ['qb'],
        attrs: { axis: { int: 0 } },
      },
      { op: 'Transpose', inputs: ['qb'], outputs: ['qbt'], attrs: { perm: [1, 0] } },
      {
        op: 'MatMulIntegerToFloat',
        domain: MS_DOMAIN,
        inputs: ['qa', 'qbt', 'a_scale', 'b_scale', 'a_zero'],
        outputs: ['scores'],
      },
      {
        op: 'ReduceMax',
        inputs: ['scores'],
        outputs: ['row_max'],
        attrs: { axes: [1], keepdims: { int: 0 } },
      },
    ],
  });
}

export interface Int8KernelOptions extends OnnxKernelOptions {
  /** Tiles whose error bound would exceed this are computed in float32; default 0.06. */
  maxBound?: number;
}

export class OnnxInt8BlockKernel implements BlockKernel {
  readonly name = 'onnx-int8-gemm-rowmax';
  /** Tiles computed in int8 / in float32 (fallback). */
  readonly tiles = { int8: 0, float32: 0 };
  private readonly stats = new WeakMap<Float32Array, BlockStats>();
  private readonly aZero = new ort.Tensor('uint8', Uint8Array.of(128), []);
  private bZero = new Int8Array(0);

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly fallback: OnnxBlockKernel,
    private readonly maxBound: number,
  ) {}

  static async create(options: Int8KernelOptions = {}): Promise<OnnxInt8BlockKernel> {
    const session = await ort.InferenceSession.create(int8ProductModel(), {
      executionProviders: options.executionProviders ?? ['cpu'],
      intraOpNumThreads: options.threads ?? os.availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OnnxInt8BlockKernel(session, await OnnxBlockKernel.create(options), options.maxBound ?? 0.06);
  }

  async product(
    a: Float32Array,
    m: number,
    b: Float32Array,
    n: number,
    dim: number,
    scores: Float32Array,
    rowMax: Float32Array,
  ): Promise<number> {
    const sa = this.statsOf(a, m, dim);
    const sb = a === b && m === n ? sa : this.statsOf(b, n, dim);
    // With a = s_A(q + δ), b = s_b(q' + δ'), |δ| ≤ ½: Σ|q| ≤ Σ|a|/s_A + d/2, likewise for b.
    const scaleA = Math.fround(sa.maxAbs > 0 ? sa.maxAbs / 127 : 1);
    let maxScaleB = 0;
    for (let r = 0; r < n; r++) maxScaleB = Math.max(maxScaleB, sb.rowScales[r]!);
    const l1A = sa.maxL1 / scaleA + dim / 2;
    const l1B = sb.maxL1 / maxScaleB + dim / 2;
    const quantization = scaleA * maxScaleB * (0.5 * l1A + 0.5 * l1B + 0.25 * dim);
    const bound = quantization * 1.01 + 8 * U * (1 + quantization);
    if (bound > this.maxBound) {
      this.tiles.float32++;
      return this.fallback.product(a, m, b, n, dim, scores, rowMax);
    }
    this.tiles.int8++;
    if (this.bZero.length < n) this.bZero = new Int8Array(n);
    await this.session.run(
      {
        a: new ort.Tensor('float32', a.subarray(0, m * dim), [m, dim]),
        b: new ort.Tensor('float32', b.subarray(0, n * dim), [n, dim]),
        a_scale: new ort.Tensor('float32', Float32Array.of(scaleA), []),
        b_scale: new ort.Tensor('float32', sb.rowScales.subarray(0, n), [n]),
        a_zero: this.aZero,
        b_zero: new ort.Tensor('int8', this.bZero.subarray(0, n), [n]),
      },
      {
        scores: new ort.Tensor('float32', scores.subarray(0, m * n), [m, n]),
        row_max: new ort.Tensor('float32', rowMax.subarray(0, m), [m]),
      },
    );
    return bound;
  }

  private statsOf(data: Float32Array, rows: number, dim: number): BlockStats {
    let st = this.stats.get(data);
    if (!st || st.rowScales.length !== rows) {
      st = blockStats(data, rows, dim);
      this.stats.set(data, st);
    }
    return st;
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.fallback.close();
  }
}

// An int8 block kernel: rows are quantized (A: uint8 with one scale per block and zero point 128; B: int8 with
// one scale per row, stored transposed), and onnxruntime's MatMulIntegerToFloat (MLAS u8×s8 GEMM, VNNI where
// the CPU has it) writes float scores directly, followed by ReduceMax per row. It only picks candidates: the
// bound it reports covers the quantization error, so the scan's canonical rescoring keeps answers exact.
//
// Bound: with a = s_A(q_a + δ_a) and b = s_b(q_b + δ_b), |δ| ≤ ½, the error of s_A·s_b·Σ q_a q_b against the
// exact a·b is at most s_A·s_b·(½Σ|q_a| + ½Σ|q_b| + ¼d); a few float32 ulps cover the output scaling and the
// canonical score's own rounding. Dense unit vectors (max |x| ≈ 0.2 at 512-d) give a bound of ≈ 0.035; a
// block with a spiky row (a large max |x|) would give a loose one and flood the scan with candidates, so
// tiles whose bound would exceed `maxBound` are computed in float32 instead.
import os from 'node:os';
import ort from 'onnxruntime-node';
import { buildModel, MS_DOMAIN } from '../onnx/graph.ts';
import type { BlockKernel } from './kernel.ts';
import { OnnxBlockKernel, type OnnxKernelOptions } from './onnx-kernel.ts';

const U = 2 ** -24;

interface QuantA {
  q: Uint8Array;
  scale: Float32Array;
  /** max over rows of Σ|q − 128| */
  maxL1: number;
}

interface QuantB {
  /** dim × rows, int8 */
  q: Int8Array;
  scales: Float32Array;
  maxScale: number;
  maxL1: number;
}

export function int8ProductModel(): Uint8Array {
  return buildModel({
    name: 'mediamesh_block_product_int8',
    inputs: [
      { name: 'a', type: 'uint8', shape: ['m', 'd'] },
      { name: 'b', type: 'int8', shape: ['d', 'n'] },
      { name: 'a_scale', type: 'float32', shape: [] },
      { name: 'b_scale', type: 'float32', shape: ['n'] },
      { name: 'a_zero', type: 'uint8', shape: [] },
    ],
    outputs: [
      { name: 'scores', type: 'float32', shape: ['m', 'n'] },
      { name: 'row_max', type: 'float32', shape: ['m'] },
    ],
    nodes: [
      {
        op: 'MatMulIntegerToFloat',
        domain: MS_DOMAIN,
        inputs: ['a', 'b', 'a_scale', 'b_scale', 'a_zero'],
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

function quantizeA(data: Float32Array, m: number, dim: number): QuantA {
  let maxAbs = 0;
  for (let i = 0; i < m * dim; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]!));
  const scale = Math.fround(maxAbs > 0 ? maxAbs / 127 : 1);
  const q = new Uint8Array(m * dim);
  let maxL1 = 0;
  for (let r = 0; r < m; r++) {
    let l1 = 0;
    for (let c = r * dim, e = c + dim; c < e; c++) {
      const v = Math.max(-127, Math.min(127, Math.round(data[c]! / scale)));
      q[c] = v + 128;
      l1 += Math.abs(v);
    }
    maxL1 = Math.max(maxL1, l1);
  }
  return { q, scale: Float32Array.of(scale), maxL1 };
}

function quantizeB(data: Float32Array, n: number, dim: number): QuantB {
  const q = new Int8Array(dim * n);
  const scales = new Float32Array(n);
  let maxScale = 0;
  let maxL1 = 0;
  for (let r = 0; r < n; r++) {
    let maxAbs = 0;
    for (let c = r * dim, e = c + dim; c < e; c++) maxAbs = Math.max(maxAbs, Math.abs(data[c]!));
    const scale = Math.fround(maxAbs > 0 ? maxAbs / 127 : 1);
    scales[r] = scale;
    maxScale = Math.max(maxScale, scale);
    let l1 = 0;
    for (let c = 0; c < dim; c++) {
      const v = Math.max(-127, Math.min(127, Math.round(data[r * dim + c]! / scale)));
      q[c * n + r] = v;
      l1 += Math.abs(v);
    }
    maxL1 = Math.max(maxL1, l1);
  }
  return { q, scales, maxScale, maxL1 };
}

export interface Int8KernelOptions extends OnnxKernelOptions {
  /** Tiles whose error bound would exceed this are computed in float32; default 0.06. */
  maxBound?: number;
}

export class OnnxInt8BlockKernel implements BlockKernel {
  readonly name = 'onnx-int8-gemm-rowmax';
  /** Tiles computed in int8 / in float32 (fallback). */
  readonly tiles = { int8: 0, float32: 0 };
  private readonly aCache = new WeakMap<Float32Array, QuantA>();
  private readonly bCache = new WeakMap<Float32Array, QuantB>();
  private readonly zero = new ort.Tensor('uint8', Uint8Array.of(128), []);

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
    let qa = this.aCache.get(a);
    if (!qa || qa.q.length !== m * dim) {
      qa = quantizeA(a, m, dim);
      this.aCache.set(a, qa);
    }
    let qb = this.bCache.get(b);
    if (!qb || qb.scales.length !== n) {
      qb = quantizeB(b, n, dim);
      this.bCache.set(b, qb);
    }
    const quantization = qa.scale[0]! * qb.maxScale * (0.5 * qa.maxL1 + 0.5 * qb.maxL1 + 0.25 * dim);
    const bound = quantization * 1.01 + 8 * U * (1 + quantization);
    if (bound > this.maxBound) {
      this.tiles.float32++;
      return this.fallback.product(a, m, b, n, dim, scores, rowMax);
    }
    this.tiles.int8++;
    await this.session.run(
      {
        a: new ort.Tensor('uint8', qa.q, [m, dim]),
        b: new ort.Tensor('int8', qb.q, [dim, n]),
        a_scale: new ort.Tensor('float32', qa.scale, []),
        b_scale: new ort.Tensor('float32', qb.scales, [n]),
        a_zero: this.zero,
      },
      {
        scores: new ort.Tensor('float32', scores.subarray(0, m * n), [m, n]),
        row_max: new ort.Tensor('float32', rowMax.subarray(0, m), [m]),
      },
    );
    return bound;
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.fallback.close();
  }
}

// The fast block kernel: a two-node ONNX graph (Gemm with transB, ReduceMax over each row) run by
// onnxruntime's CPU kernels (MLAS: SIMD, multi-threaded). Outputs are written straight into the caller's
// buffers (pre-allocated outputs), so a tile costs no allocation.
import os from 'node:os';
import ort from 'onnxruntime-node';
import { buildModel } from '../onnx/graph.ts';
import { type BlockKernel, scoreErrorBound } from './kernel.ts';

export function blockProductModel(): Uint8Array {
  return buildModel({
    name: 'mediamesh_block_product',
    inputs: [
      { name: 'a', type: 'float32', shape: ['m', 'd'] },
      { name: 'b', type: 'float32', shape: ['n', 'd'] },
    ],
    outputs: [
      { name: 'scores', type: 'float32', shape: ['m', 'n'] },
      { name: 'row_max', type: 'float32', shape: ['m'] },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['a', 'b'], outputs: ['scores'], attrs: { transB: { int: 1 } } },
      {
        op: 'ReduceMax',
        inputs: ['scores'],
        outputs: ['row_max'],
        attrs: { axes: [1], keepdims: { int: 0 } },
      },
    ],
  });
}

export interface OnnxKernelOptions {
  /** Intra-op threads; default: every core. */
  threads?: number;
  /** Execution providers in order of preference; default CPU. */
  executionProviders?: string[];
}

export class OnnxBlockKernel implements BlockKernel {
  readonly name = 'onnx-gemm-rowmax';

  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(options: OnnxKernelOptions = {}): Promise<OnnxBlockKernel> {
    const threads = options.threads ?? os.availableParallelism();
    const session = await ort.InferenceSession.create(blockProductModel(), {
      executionProviders: options.executionProviders ?? ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OnnxBlockKernel(session);
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
    await this.session.run(
      {
        a: new ort.Tensor('float32', a.subarray(0, m * dim), [m, dim]),
        b: new ort.Tensor('float32', b.subarray(0, n * dim), [n, dim]),
      },
      {
        scores: new ort.Tensor('float32', scores.subarray(0, m * n), [m, n]),
        row_max: new ort.Tensor('float32', rowMax.subarray(0, m), [m]),
      },
    );
    return scoreErrorBound(dim);
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

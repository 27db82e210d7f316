// The built-in `layout` model: a composition descriptor for match cutting, built as an ONNX graph (opset 17)
// from a handful of fixed-weight operators, with a plain-TS reference of the same math (layoutReference) that
// the tests hold the graph to.
//
// Input [N, 3, 72, 128] RGB in [0, 1]. Per frame:
//   Y  = 0.299 R + 0.587 G + 0.114 B                       (1×1 Conv)
//   Cb, Cr = BT.601 chroma (centred on 0)                     (1×1 Conv, 2 channels)
//   edges:  Y padded by replicating its border (Pad 'edge'); gradients gx, gy by Sobel (each /8; a 3×3 Conv,
//           2 channels: cheaper than eight 3×3 filters, and its power-of-two weights leave less rounding
//           residue on flat areas); then 8 directional
//           derivatives d_k = cos θk · gx + sin θk · gy, θk = k·π/8, k = 0..7 (a 1×1 Conv, 8 channels);
//           energy |d_k| (Abs: an edge counts the same whichever side is brighter), averaged on a 4×4 grid
//           of 18×32 cells, minus the mean of those 128 values (without it every pair of frames shares a
//           large positive edge component: unrelated photos scored cosine ≈ 0.7 on this block, ≈ 0.17 with it)
//                                                            → 8·4·4 = 128 values
//   luma:   Y averaged on an 8×8 grid (9×16 cells), minus the thumbnail's mean → 64 values
//   chroma: Cb, Cr averaged on a 4×4 grid                   → 2·4·4 = 32 values
//   each block b → w_b · b / (‖b‖₂ + ε_b); concatenated as z (224 values); divided by max(‖z‖₂, 0.1).
// Per-block normalization makes the descriptor insensitive to global contrast and brightness; ε_b keeps blocks
// with next to no content (a faint gradient, a grey picture's chroma) from being blown up to full weight. Any
// picture with content has ‖z‖ ≈ 1 or more, so its row is exactly L2-normalized; the floor 0.1 (rather than a
// tiny ε) keeps float32 rounding residue from being blown up into a unit vector (onnxruntime's convolutions
// leave ~1e-8 behind on a flat frame, where exact arithmetic gives 0).
// A flat frame has no edges and a flat thumbnail, so only its chroma block can be non-zero: flat black, white or
// grey → the zero vector (entries below 1e-5 from that residue; cosine ≈ 0 with everything, never NaN); a flat
// coloured frame → its chroma block alone, unit length (the same row for every frame of that colour).
// The graph normalizes, so the manifest's output.normalize is false (the runner must not re-normalize a flat
// frame's residue to unit length).
import { buildModel, type GraphSpec, OPSET } from '../onnx/graph.ts';
import type { ModelManifest } from './manifest.ts';

export const LAYOUT_WIDTH = 128;
export const LAYOUT_HEIGHT = 72;
const EDGE_DIRS = 8;
const GRID = 4;
const THUMB = 8;

/** Block weights and softening constants (see the header comment). */
export const LAYOUT_BLOCKS = {
  edges: { dim: EDGE_DIRS * GRID * GRID, weight: 1, eps: 0.02 },
  luma: { dim: THUMB * THUMB, weight: 1, eps: 0.05 },
  chroma: { dim: 2 * GRID * GRID, weight: 0.7, eps: 0.1 },
} as const;
/** The final division is by max(‖z‖, FINAL_FLOOR): see the header comment. */
const FINAL_FLOOR = 0.1;

export const LAYOUT_DIM = LAYOUT_BLOCKS.edges.dim + LAYOUT_BLOCKS.luma.dim + LAYOUT_BLOCKS.chroma.dim;

export const layoutManifest: ModelManifest = {
  name: 'layout',
  version: 1,
  description:
    'composition descriptor: oriented edge energy on a 4×4 grid, an 8×8 luma thumbnail and 4×4 chroma, ' +
    'each block normalized, L2-normalized (224 values)',
  source: { kind: 'builtin' },
  input: {
    name: 'pixels',
    width: LAYOUT_WIDTH,
    height: LAYOUT_HEIGHT,
    layout: 'NCHW',
    channels: 3,
    colorOrder: 'rgb',
    scale: 1 / 255,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'stretch',
  },
  output: { name: 'embedding', dim: LAYOUT_DIM, normalize: false },
  opset: OPSET,
};

const LUMA = [0.299, 0.587, 0.114] as const;
const CHROMA = [
  [-0.168736, -0.331264, 0.5],
  [0.5, -0.418688, -0.081312],
] as const;
const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1].map((v) => v / 8);
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1].map((v) => v / 8);

/** The 8 directions (cos θk, sin θk), [k][0..1]. */
function directions(): number[][] {
  return Array.from({ length: EDGE_DIRS }, (_, k) => {
    const t = (k * Math.PI) / EDGE_DIRS;
    return [Math.cos(t), Math.sin(t)];
  });
}

/** The graph (a pure function of the constants above: the bytes are deterministic). */
export function layoutGraph(): GraphSpec {
  const cellH = LAYOUT_HEIGHT / GRID;
  const cellW = LAYOUT_WIDTH / GRID;
  const thumbH = LAYOUT_HEIGHT / THUMB;
  const thumbW = LAYOUT_WIDTH / THUMB;
  const nodes: GraphSpec['nodes'] = [
    { op: 'Conv', inputs: ['pixels', 'w_luma'], outputs: ['y'] },
    { op: 'Conv', inputs: ['pixels', 'w_chroma'], outputs: ['c'] },
    { op: 'Pad', inputs: ['y', 'pad1'], outputs: ['y_pad'], attrs: { mode: 'edge' } },
    { op: 'Conv', inputs: ['y_pad', 'w_sobel'], outputs: ['g'] },
    { op: 'Conv', inputs: ['g', 'w_dirs'], outputs: ['d'] },
    { op: 'Abs', inputs: ['d'], outputs: ['e'] },
    {
      op: 'AveragePool',
      inputs: ['e'],
      outputs: ['e_grid'],
      attrs: { kernel_shape: [cellH, cellW], strides: [cellH, cellW] },
    },
    { op: 'Flatten', inputs: ['e_grid'], outputs: ['e_flat'], attrs: { axis: { int: 1 } } },
    { op: 'ReduceMean', inputs: ['e_flat'], outputs: ['e_mean'], attrs: { axes: [1], keepdims: { int: 1 } } },
    { op: 'Sub', inputs: ['e_flat', 'e_mean'], outputs: ['edges'] },
    {
      op: 'AveragePool',
      inputs: ['y'],
      outputs: ['y_grid'],
      attrs: { kernel_shape: [thumbH, thumbW], strides: [thumbH, thumbW] },
    },
    { op: 'Flatten', inputs: ['y_grid'], outputs: ['thumb'], attrs: { axis: { int: 1 } } },
    {
      op: 'ReduceMean',
      inputs: ['thumb'],
      outputs: ['thumb_mean'],
      attrs: { axes: [1], keepdims: { int: 1 } },
    },
    { op: 'Sub', inputs: ['thumb', 'thumb_mean'], outputs: ['luma'] },
    {
      op: 'AveragePool',
      inputs: ['c'],
      outputs: ['c_grid'],
      attrs: { kernel_shape: [cellH, cellW], strides: [cellH, cellW] },
    },
    { op: 'Flatten', inputs: ['c_grid'], outputs: ['chroma'], attrs: { axis: { int: 1 } } },
  ];
  const initializers: NonNullable<GraphSpec['initializers']> = [
    { name: 'w_luma', type: 'float32', dims: [1, 3, 1, 1], values: [...LUMA] },
    { name: 'w_chroma', type: 'float32', dims: [2, 3, 1, 1], values: CHROMA.flat() },
    { name: 'pad1', type: 'int64', dims: [8], values: [0, 0, 1, 1, 0, 0, 1, 1] },
    { name: 'w_sobel', type: 'float32', dims: [2, 1, 3, 3], values: [...SOBEL_X, ...SOBEL_Y] },
    { name: 'w_dirs', type: 'float32', dims: [EDGE_DIRS, 2, 1, 1], values: directions().flat() },
  ];
  // Each block: w · b / (‖b‖ + ε) = b / (‖b‖/w + ε/w).
  for (const [block, { weight, eps }] of Object.entries(LAYOUT_BLOCKS)) {
    nodes.push(
      {
        op: 'ReduceL2',
        inputs: [block],
        outputs: [`${block}_norm`],
        attrs: { axes: [1], keepdims: { int: 1 } },
      },
      { op: 'Mul', inputs: [`${block}_norm`, `${block}_inv_w`], outputs: [`${block}_norm_w`] },
      { op: 'Add', inputs: [`${block}_norm_w`, `${block}_eps_w`], outputs: [`${block}_den`] },
      { op: 'Div', inputs: [block, `${block}_den`], outputs: [`${block}_n`] },
    );
    initializers.push(
      { name: `${block}_inv_w`, type: 'float32', dims: [], values: [1 / weight] },
      { name: `${block}_eps_w`, type: 'float32', dims: [], values: [eps / weight] },
    );
  }
  nodes.push(
    { op: 'Concat', inputs: ['edges_n', 'luma_n', 'chroma_n'], outputs: ['z'], attrs: { axis: { int: 1 } } },
    { op: 'ReduceL2', inputs: ['z'], outputs: ['z_norm'], attrs: { axes: [1], keepdims: { int: 1 } } },
    { op: 'Max', inputs: ['z_norm', 'final_floor'], outputs: ['z_den'] },
    { op: 'Div', inputs: ['z', 'z_den'], outputs: ['embedding'] },
  );
  initializers.push({ name: 'final_floor', type: 'float32', dims: [], values: [FINAL_FLOOR] });
  return {
    name: 'mediamesh_layout_v1',
    inputs: [{ name: 'pixels', type: 'float32', shape: ['n', 3, LAYOUT_HEIGHT, LAYOUT_WIDTH] }],
    outputs: [{ name: 'embedding', type: 'float32', shape: ['n', LAYOUT_DIM] }],
    nodes,
    initializers,
  };
}

let bytes: Uint8Array | undefined;

/** The serialized model, built once per process. */
export function layoutModel(): Uint8Array {
  bytes ??= buildModel(layoutGraph());
  return bytes;
}

/**
 * The same descriptor in plain TypeScript (float64), from rgb24 frames of 128×72: the reference the ONNX graph is
 * tested against. Returns n × 224 rows.
 */
export function layoutReference(frames: readonly Uint8Array[]): Float32Array {
  const W = LAYOUT_WIDTH;
  const H = LAYOUT_HEIGHT;
  const out = new Float32Array(frames.length * LAYOUT_DIM);
  const dirs = directions();
  const y = new Float64Array(W * H);
  const cb = new Float64Array(W * H);
  const cr = new Float64Array(W * H);
  frames.forEach((f, n) => {
    if (f.length !== W * H * 3) throw new RangeError(`frame ${n}: ${f.length} bytes, expected ${W * H * 3}`);
    for (let p = 0; p < W * H; p++) {
      const r = f[p * 3]! / 255;
      const g = f[p * 3 + 1]! / 255;
      const b = f[p * 3 + 2]! / 255;
      y[p] = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
      cb[p] = CHROMA[0][0] * r + CHROMA[0][1] * g + CHROMA[0][2] * b;
      cr[p] = CHROMA[1][0] * r + CHROMA[1][1] * g + CHROMA[1][2] * b;
    }
    const at = (xx: number, yy: number) =>
      y[Math.min(Math.max(yy, 0), H - 1) * W + Math.min(Math.max(xx, 0), W - 1)]!;
    const cellH = H / GRID;
    const cellW = W / GRID;
    // Edge energy, pooled.
    const edges = new Float64Array(LAYOUT_BLOCKS.edges.dim);
    for (let yy = 0; yy < H; yy++) {
      for (let xx = 0; xx < W; xx++) {
        const cell = Math.floor(yy / cellH) * GRID + Math.floor(xx / cellW);
        let gx = 0;
        let gy = 0;
        for (let j = 0; j < 3; j++) {
          for (let i = 0; i < 3; i++) {
            const v = at(xx + i - 1, yy + j - 1);
            gx += SOBEL_X[j * 3 + i]! * v;
            gy += SOBEL_Y[j * 3 + i]! * v;
          }
        }
        for (let k = 0; k < EDGE_DIRS; k++) {
          edges[k * GRID * GRID + cell]! += Math.abs(dirs[k]![0]! * gx + dirs[k]![1]! * gy);
        }
      }
    }
    let edgeMean = 0;
    for (let i = 0; i < edges.length; i++) {
      edges[i]! /= cellH * cellW;
      edgeMean += edges[i]!;
    }
    edgeMean /= edges.length;
    for (let i = 0; i < edges.length; i++) edges[i]! -= edgeMean;
    // Luma thumbnail minus its mean.
    const luma = new Float64Array(LAYOUT_BLOCKS.luma.dim);
    const tH = H / THUMB;
    const tW = W / THUMB;
    for (let yy = 0; yy < H; yy++) {
      for (let xx = 0; xx < W; xx++)
        luma[Math.floor(yy / tH) * THUMB + Math.floor(xx / tW)]! += y[yy * W + xx]!;
    }
    let mean = 0;
    for (let i = 0; i < luma.length; i++) {
      luma[i]! /= tH * tW;
      mean += luma[i]!;
    }
    mean /= luma.length;
    for (let i = 0; i < luma.length; i++) luma[i]! -= mean;
    // Chroma grid.
    const chroma = new Float64Array(LAYOUT_BLOCKS.chroma.dim);
    for (let yy = 0; yy < H; yy++) {
      for (let xx = 0; xx < W; xx++) {
        const cell = Math.floor(yy / cellH) * GRID + Math.floor(xx / cellW);
        chroma[cell]! += cb[yy * W + xx]!;
        chroma[GRID * GRID + cell]! += cr[yy * W + xx]!;
      }
    }
    for (let i = 0; i < chroma.length; i++) chroma[i]! /= cellH * cellW;
    // Block normalization, concatenation, final normalization.
    const z: number[] = [];
    for (const [block, values] of [
      ['edges', edges],
      ['luma', luma],
      ['chroma', chroma],
    ] as const) {
      const { weight, eps } = LAYOUT_BLOCKS[block];
      const norm = Math.hypot(...values);
      for (const v of values) z.push((weight * v) / (norm + eps));
    }
    const norm = Math.hypot(...z);
    for (let i = 0; i < z.length; i++) out[n * LAYOUT_DIM + i] = z[i]! / Math.max(norm, FINAL_FLOOR);
  });
  return out;
}

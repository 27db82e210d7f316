// Sub-pixel alignment of one thumb onto another (translation and zoom, Gauss–Newton on luma), for the final
// test of a dissolve candidate: linear interpolation between two slightly shifted pictures looks exactly like a
// blend, so a pan passes every blend test; what a dissolve has and a pan has not is ends that no camera motion
// maps onto each other.
import { shiftOnto } from './motion.ts';
import type { Thumb, ThumbGeometry } from './thumb.ts';

/** Where target pixel (x, y) samples the source: c + (1 + s)·((x, y) − c) + (dx, dy), c the frame centre. */
export interface Warp {
  dx: number;
  dy: number;
  s: number;
}

const MARGIN = 3;

function sample(p: Float32Array, w: number, x: number, y: number, c: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const i = 3 * (y0 * w + x0) + c;
  const j = i + 3 * w;
  return (p[i]! * (1 - fx) + p[i + 3]! * fx) * (1 - fy) + (p[j]! * (1 - fx) + p[j + 3]! * fx) * fy;
}

/** Refines `init` so that `from` warped matches `to` (luma, half size), a few Gauss–Newton steps. */
export function refineWarp(g: ThumbGeometry, to: Thumb, from: Thumb, init: Warp, steps = 4): Warp {
  const { w2, h2 } = g;
  const T = to.half;
  const F = from.half;
  const cx = (w2 - 1) / 2;
  const cy = (h2 - 1) / 2;
  let { dx, dy, s } = init;
  for (let it = 0; it < steps; it++) {
    // Normal equations of the 3 parameters.
    let a00 = 0;
    let a01 = 0;
    let a02 = 0;
    let a11 = 0;
    let a12 = 0;
    let a22 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    for (let y = MARGIN; y < h2 - MARGIN; y++) {
      for (let x = MARGIN; x < w2 - MARGIN; x++) {
        const xs = cx + (1 + s) * (x - cx) + dx;
        const ys = cy + (1 + s) * (y - cy) + dy;
        if (xs < 1 || ys < 1 || xs > w2 - 2 || ys > h2 - 2) continue;
        const v = sample(F, w2, xs, ys, 0);
        const gx = (sample(F, w2, xs + 0.5, ys, 0) - sample(F, w2, xs - 0.5, ys, 0)) * 1;
        const gy = (sample(F, w2, xs, ys + 0.5, 0) - sample(F, w2, xs, ys - 0.5, 0)) * 1;
        const gz = gx * (x - cx) + gy * (y - cy);
        const r = T[3 * (y * w2 + x)]! - v;
        a00 += gx * gx;
        a01 += gx * gy;
        a02 += gx * gz;
        a11 += gy * gy;
        a12 += gy * gz;
        a22 += gz * gz;
        b0 += gx * r;
        b1 += gy * r;
        b2 += gz * r;
      }
    }
    const step = solve3(a00, a01, a02, a11, a12, a22, b0, b1, b2);
    if (!step) break;
    // Keep the model sane: a few pixels and a few percent per step.
    dx += Math.max(-2, Math.min(2, step[0]));
    dy += Math.max(-2, Math.min(2, step[1]));
    s += Math.max(-0.1, Math.min(0.1, step[2]));
    if (Math.abs(step[0]) + Math.abs(step[1]) < 0.01 && Math.abs(step[2]) < 0.001) break;
  }
  return { dx, dy, s };
}

/** Symmetric 3×3 solve by Cramer's rule; undefined when (nearly) singular (a flat picture). */
function solve3(
  a00: number,
  a01: number,
  a02: number,
  a11: number,
  a12: number,
  a22: number,
  b0: number,
  b1: number,
  b2: number,
): [number, number, number] | undefined {
  const det = a00 * (a11 * a22 - a12 * a12) - a01 * (a01 * a22 - a12 * a02) + a02 * (a01 * a12 - a11 * a02);
  if (!(Math.abs(det) > 1e-6 * (a00 * a11 * a22 + 1))) return undefined;
  const x0 = (b0 * (a11 * a22 - a12 * a12) - a01 * (b1 * a22 - a12 * b2) + a02 * (b1 * a12 - a11 * b2)) / det;
  const x1 = (a00 * (b1 * a22 - b2 * a12) - b0 * (a01 * a22 - a12 * a02) + a02 * (a01 * b2 - b1 * a02)) / det;
  const x2 = (a00 * (a11 * b2 - a12 * b1) - a01 * (a01 * b2 - b1 * a02) + b0 * (a01 * a12 - a11 * a02)) / det;
  return [x0, x1, x2];
}

/**
 * How much of the difference between `a` and `b` camera motion cannot explain: |b − warp(a)| / |b − a| after
 * aligning a onto b (whole-pixel search, then sub-pixel translation and zoom). Near 0 for a pan or a zoom over
 * one picture, near 1 when b shows something else (a dissolve's far end, black after a fade).
 */
export function unexplainedByMotion(g: ThumbGeometry, a: Thumb, b: Thumb, radius: number): number {
  const [dx, dy] = shiftOnto(g, b, a, radius);
  const w = refineWarp(g, b, a, { dx, dy, s: 0 });
  const { w2, h2 } = g;
  const cx = (w2 - 1) / 2;
  const cy = (h2 - 1) / 2;
  const A = a.half;
  const B = b.half;
  let warped = 0;
  let plain = 0;
  for (let y = MARGIN; y < h2 - MARGIN; y++) {
    for (let x = MARGIN; x < w2 - MARGIN; x++) {
      const xs = cx + (1 + w.s) * (x - cx) + w.dx;
      const ys = cy + (1 + w.s) * (y - cy) + w.dy;
      if (xs < 0 || ys < 0 || xs > w2 - 1.001 || ys > h2 - 1.001) continue;
      const i = 3 * (y * w2 + x);
      for (let c = 0; c < 3; c++) {
        warped += Math.abs(B[i + c]! - sample(A, w2, xs, ys, c));
        plain += Math.abs(B[i + c]! - A[i + c]!);
      }
    }
  }
  return plain > 0 ? warped / plain : 0;
}

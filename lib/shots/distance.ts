// Distances between thumbs. Both are in luma units (0–255 scale, mean over pixels of |ΔY| + |ΔU| + |ΔV|).
import { shiftOnto } from './motion.ts';
import type { Thumb, ThumbGeometry } from './thumb.ts';

/**
 * Mean absolute difference (Y, U, V) of two half-size thumbs after the global shift of up to ±radius pixels that
 * best maps `b` onto `a` (a pan or a shake of a few percent of the frame costs nothing).
 */
export function shiftedDistance(g: ThumbGeometry, a: Thumb, b: Thumb, radius: number): number {
  const { w2, h2 } = g;
  const [dx, dy] = shiftOnto(g, a, b, radius);
  const A = a.half;
  const B = b.half;
  let sum = 0;
  for (let y = radius; y < h2 - radius; y++) {
    let ia = 3 * (y * w2 + radius);
    let ib = 3 * ((y + dy) * w2 + radius + dx);
    for (let x = radius; x < w2 - radius; x++, ia += 3, ib += 3) {
      sum +=
        Math.abs(A[ia]! - B[ib]!) + Math.abs(A[ia + 1]! - B[ib + 1]!) + Math.abs(A[ia + 2]! - B[ib + 2]!);
    }
  }
  return sum / ((w2 - 2 * radius) * (h2 - 2 * radius));
}

export interface BlendFit {
  /** Weight of `a` in the best blend α·a + (1 − α)·b of the middle frame. */
  alpha: number;
  /** Mean absolute residual of that blend. */
  residual: number;
  /** Mean absolute difference of the two ends. */
  spread: number;
  /** Correlation of the two ends' luma (1: the same picture, maybe brighter or darker; 0 when one is flat). */
  correlation: number;
}

/**
 * How well the middle frame `m` is a blend of `a` and `b` (quarter-size thumbs): a dissolve's frames are exactly
 * that, a fade's too (one end black), while camera motion or a cut is not (or only with α at 0 or 1).
 */
export function blendFit(a: Thumb, b: Thumb, m: Thumb, minSpread = 0): BlendFit {
  const A = a.quarter;
  const B = b.quarter;
  const M = m.quarter;
  let dot = 0;
  let norm = 0;
  let spread = 0;
  for (let i = 0; i < A.length; i++) {
    const d = A[i]! - B[i]!;
    dot += (M[i]! - B[i]!) * d;
    norm += d * d;
    spread += Math.abs(d);
  }
  const n = A.length / 3;
  // Ends this close are no transition: the rest is not worth computing.
  if (spread / n < minSpread) {
    return { alpha: Number.NaN, residual: Number.NaN, spread: spread / n, correlation: Number.NaN };
  }
  const alpha = norm > 0 ? dot / norm : 0.5;
  const clamped = Math.min(1, Math.max(0, alpha));
  let residual = 0;
  for (let i = 0; i < A.length; i++) residual += Math.abs(M[i]! - B[i]! - clamped * (A[i]! - B[i]!));
  return { alpha, residual: residual / n, spread: spread / n, correlation: lumaCorrelation(A, B) };
}

function lumaCorrelation(A: Float32Array, B: Float32Array): number {
  let sa = 0;
  let sb = 0;
  const n = A.length / 3;
  for (let i = 0; i < A.length; i += 3) {
    sa += A[i]!;
    sb += B[i]!;
  }
  const ma = sa / n;
  const mb = sb / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < A.length; i += 3) {
    const x = A[i]! - ma;
    const y = B[i]! - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  // Flat pictures (std below 1 luma unit) correlate with nothing.
  return aa > n && bb > n ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * The blend fit after motion compensation: each end is first shifted (whole pixels, half size) to best match the
 * middle frame, so the shots' own camera motion does not count against a dissolve.
 */
export function alignedBlendFit(g: ThumbGeometry, a: Thumb, b: Thumb, m: Thumb, radius: number): BlendFit {
  const M = m.half;
  const [ax, ay] = shiftOnto(g, m, a, radius);
  const [bx, by] = shiftOnto(g, m, b, radius);
  const { w2, h2 } = g;
  const A = a.half;
  const B = b.half;
  let dot = 0;
  let norm = 0;
  let spread = 0;
  const at = (y: number, x: number, sx: number, sy: number) => 3 * ((y + sy) * w2 + x + sx);
  for (let y = radius; y < h2 - radius; y++) {
    for (let x = radius; x < w2 - radius; x++) {
      const im = at(y, x, 0, 0);
      const ia = at(y, x, ax, ay);
      const ib = at(y, x, bx, by);
      for (let c = 0; c < 3; c++) {
        const d = A[ia + c]! - B[ib + c]!;
        dot += (M[im + c]! - B[ib + c]!) * d;
        norm += d * d;
        spread += Math.abs(d);
      }
    }
  }
  const alpha = norm > 0 ? dot / norm : 0.5;
  const k = Math.min(1, Math.max(0, alpha));
  let residual = 0;
  for (let y = radius; y < h2 - radius; y++) {
    for (let x = radius; x < w2 - radius; x++) {
      const im = at(y, x, 0, 0);
      const ia = at(y, x, ax, ay);
      const ib = at(y, x, bx, by);
      for (let c = 0; c < 3; c++)
        residual += Math.abs(M[im + c]! - B[ib + c]! - k * (A[ia + c]! - B[ib + c]!));
    }
  }
  const n = (w2 - 2 * radius) * (h2 - 2 * radius);
  return { alpha, residual: residual / n, spread: spread / n, correlation: Number.NaN };
}

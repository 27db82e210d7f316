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
  // Luma sums for the correlation, gathered on the way (the same additions in the same order as a pass of its own).
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < A.length; i += 3) {
    const y = A[i]! - B[i]!;
    dot += (M[i]! - B[i]!) * y;
    norm += y * y;
    spread += Math.abs(y);
    const u = A[i + 1]! - B[i + 1]!;
    dot += (M[i + 1]! - B[i + 1]!) * u;
    norm += u * u;
    spread += Math.abs(u);
    const v = A[i + 2]! - B[i + 2]!;
    dot += (M[i + 2]! - B[i + 2]!) * v;
    norm += v * v;
    spread += Math.abs(v);
    sa += A[i]!;
    sb += B[i]!;
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
  return {
    alpha,
    residual: residual / n,
    spread: spread / n,
    correlation: lumaCorrelation(A, B, sa / n, sb / n),
  };
}

/** Correlation of the luma of two interleaved Y, U, V thumbs whose luma means are `ma` and `mb`. */
function lumaCorrelation(A: Float32Array, B: Float32Array, ma: number, mb: number): number {
  const n = A.length / 3;
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
  // Row by row with running indices: m at (x, y), a at (x + ax, y + ay), b at (x + bx, y + by).
  for (let y = radius; y < h2 - radius; y++) {
    let im = 3 * (y * w2 + radius);
    let ia = 3 * ((y + ay) * w2 + radius + ax);
    let ib = 3 * ((y + by) * w2 + radius + bx);
    for (let x = radius; x < w2 - radius; x++, im += 3, ia += 3, ib += 3) {
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
    let im = 3 * (y * w2 + radius);
    let ia = 3 * ((y + ay) * w2 + radius + ax);
    let ib = 3 * ((y + by) * w2 + radius + bx);
    for (let x = radius; x < w2 - radius; x++, im += 3, ia += 3, ib += 3) {
      for (let c = 0; c < 3; c++)
        residual += Math.abs(M[im + c]! - B[ib + c]! - k * (A[ia + c]! - B[ib + c]!));
    }
  }
  const n = (w2 - 2 * radius) * (h2 - 2 * radius);
  return { alpha, residual: residual / n, spread: spread / n, correlation: Number.NaN };
}

// Distances between thumbs. Both are in luma units (0–255 scale, mean over pixels of |ΔY| + |ΔU| + |ΔV|).
import type { Thumb, ThumbGeometry } from './thumb.ts';

/**
 * Mean absolute difference of two half-size thumbs after the best global shift of up to ±radius pixels (a pan or
 * a shake of a few percent of the frame costs nothing). Every shift is scored on the same inner region, and a
 * shift stops being summed once it cannot beat the best so far.
 */
export function shiftedDistance(g: ThumbGeometry, a: Thumb, b: Thumb, radius: number): number {
  const { w2, h2 } = g;
  const A = a.half;
  const B = b.half;
  const x0 = radius;
  const x1 = w2 - radius;
  const y0 = radius;
  const y1 = h2 - radius;
  const count = (x1 - x0) * (y1 - y0);
  let best = Number.POSITIVE_INFINITY;
  for (const [dx, dy] of shiftsOf(radius)) {
    const limit = best * count;
    let sum = 0;
    for (let y = y0; y < y1 && sum < limit; y++) {
      let ia = 3 * (y * w2 + x0);
      let ib = 3 * ((y + dy) * w2 + x0 + dx);
      for (let x = x0; x < x1; x++, ia += 3, ib += 3) {
        sum +=
          Math.abs(A[ia]! - B[ib]!) + Math.abs(A[ia + 1]! - B[ib + 1]!) + Math.abs(A[ia + 2]! - B[ib + 2]!);
      }
    }
    if (sum < limit) best = sum / count;
  }
  return best;
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
export function blendFit(a: Thumb, b: Thumb, m: Thumb): BlendFit {
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
  const alpha = norm > 0 ? dot / norm : 0.5;
  const clamped = Math.min(1, Math.max(0, alpha));
  let residual = 0;
  for (let i = 0; i < A.length; i++) residual += Math.abs(M[i]! - B[i]! - clamped * (A[i]! - B[i]!));
  const n = A.length / 3;
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

/** The global shift (±radius half-size pixels) that best maps `from` onto `to`, scored on the inner region. */
export function bestShift(
  g: ThumbGeometry,
  to: Float32Array,
  from: Float32Array,
  radius: number,
): [number, number] {
  const { w2, h2 } = g;
  const count = (w2 - 2 * radius) * (h2 - 2 * radius);
  let best = Number.POSITIVE_INFINITY;
  let shift: [number, number] = [0, 0];
  for (const [dx, dy] of shiftsOf(radius)) {
    const limit = best * count;
    let sum = 0;
    for (let y = radius; y < h2 - radius && sum < limit; y++) {
      let it = 3 * (y * w2 + radius);
      let ifr = 3 * ((y + dy) * w2 + radius + dx);
      for (let x = radius; x < w2 - radius; x++, it += 3, ifr += 3) {
        sum +=
          Math.abs(to[it]! - from[ifr]!) +
          Math.abs(to[it + 1]! - from[ifr + 1]!) +
          Math.abs(to[it + 2]! - from[ifr + 2]!);
      }
    }
    if (sum < limit) {
      best = sum / count;
      shift = [dx, dy];
    }
  }
  return shift;
}

const shiftLists = new Map<number, [number, number][]>();
/** Shifts within ±radius, nearest first (so a still picture stops the search early). */
function shiftsOf(radius: number): [number, number][] {
  let list = shiftLists.get(radius);
  if (!list) {
    list = [];
    for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) list.push([dx, dy]);
    list.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
    shiftLists.set(radius, list);
  }
  return list;
}

/**
 * The blend fit after motion compensation: each end is first shifted (whole pixels, half size) to best match the
 * middle frame, so the shots' own camera motion does not count against a dissolve.
 */
export function alignedBlendFit(g: ThumbGeometry, a: Thumb, b: Thumb, m: Thumb, radius: number): BlendFit {
  const M = m.half;
  const [ax, ay] = bestShift(g, M, a.half, radius);
  const [bx, by] = bestShift(g, M, b.half, radius);
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

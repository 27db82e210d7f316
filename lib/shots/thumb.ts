// A frame reduced to what shot detection looks at: Y, U and V at half and quarter of the analysis size (the
// derivative's own yuv420p, so nothing is converted), plus luma statistics.

export interface Thumb {
  /** Y, U, V interleaved per pixel at half size (w2 × h2): [y, u, v, y, u, v, …]. */
  half: Float32Array;
  /** The same at quarter size (w4 × h4). */
  quarter: Float32Array;
  /** Luma alone at half and quarter size (contiguous, for motion search). */
  halfY: Float32Array;
  quarterY: Float32Array;
  meanY: number;
  /** Standard deviation of the half-size luma: ~0 for black or any uniform frame. */
  stdY: number;
}

export interface ThumbGeometry {
  width: number;
  height: number;
  w2: number;
  h2: number;
  w4: number;
  h4: number;
}

export function thumbGeometry(width: number, height: number): ThumbGeometry {
  if (width % 4 || height % 4 || width < 8 || height < 8) {
    throw new RangeError(`the analysis size must be multiples of 4 and at least 8×8, got ${width}×${height}`);
  }
  return { width, height, w2: width / 2, h2: height / 2, w4: width / 4, h4: height / 4 };
}

/** Builds the thumb of one yuv420p frame (Y at width × height, then U and V at half size), into `reuse`'s arrays
 * when given. */
export function makeThumb(g: ThumbGeometry, yuv: Uint8Array, reuse?: Thumb): Thumb {
  const { width: w, w2, h2, w4, h4 } = g;
  const uOff = w * g.height;
  const vOff = uOff + w2 * h2;
  const half = reuse?.half ?? new Float32Array(w2 * h2 * 3);
  const halfY = reuse?.halfY ?? new Float32Array(w2 * h2);
  let sum = 0;
  let sum2 = 0;
  for (let y = 0; y < h2; y++) {
    const r0 = 2 * y * w;
    const r1 = r0 + w;
    for (let x = 0; x < w2; x++) {
      const l = (yuv[r0 + 2 * x]! + yuv[r0 + 2 * x + 1]! + yuv[r1 + 2 * x]! + yuv[r1 + 2 * x + 1]!) * 0.25;
      const i = y * w2 + x;
      half[3 * i] = l;
      halfY[i] = l;
      half[3 * i + 1] = yuv[uOff + i]!;
      half[3 * i + 2] = yuv[vOff + i]!;
      sum += l;
      sum2 += l * l;
    }
  }
  const n = w2 * h2;
  const meanY = sum / n;
  const stdY = Math.sqrt(Math.max(0, sum2 / n - meanY * meanY));
  const quarter = reuse?.quarter ?? new Float32Array(w4 * h4 * 3);
  const quarterY = reuse?.quarterY ?? new Float32Array(w4 * h4);
  for (let y = 0; y < h4; y++) {
    for (let x = 0; x < w4; x++) {
      const a = 3 * (2 * y * w2 + 2 * x);
      const b = a + 3 * w2;
      const o = 3 * (y * w4 + x);
      for (let c = 0; c < 3; c++) {
        quarter[o + c] = (half[a + c]! + half[a + 3 + c]! + half[b + c]! + half[b + 3 + c]!) * 0.25;
      }
      quarterY[y * w4 + x] = quarter[o]!;
    }
  }
  return { half, quarter, halfY, quarterY, meanY, stdY };
}

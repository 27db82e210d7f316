// Pictures to model input: packed rgb24 bytes → float32 tensor data (NCHW or NHWC) with the manifest's scale,
// per-channel mean/std and channel order, plus a bilinear resize for pictures of another size.
import type { ModelInput } from './manifest.ts';

/** A packed rgb24 picture (3 bytes per pixel, rows without padding). */
export interface RgbPicture {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Normalization = Pick<ModelInput, 'layout' | 'colorOrder' | 'scale' | 'mean' | 'std'>;

/**
 * Writes `frames` (each width × height × 3 rgb24 bytes) into one float32 batch: value = (byte · scale − mean[c])
 * / std[c], where c is the model's channel (its colorOrder), laid out as NCHW or NHWC. `out` is reused when
 * given (it must hold n · 3 · width · height values).
 */
export function picturesToTensor(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  norm: Normalization,
  out?: Float32Array,
): Float32Array {
  const plane = width * height;
  const per = plane * 3;
  const data = out ?? new Float32Array(frames.length * per);
  if (data.length < frames.length * per) throw new RangeError('output buffer too small');
  // Model channel c takes source channel src[c]; y = byte · a[c] + b[c].
  const src = norm.colorOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const a = [0, 1, 2].map((c) => norm.scale / norm.std[c]!);
  const b = [0, 1, 2].map((c) => -norm.mean[c]! / norm.std[c]!);
  for (let n = 0; n < frames.length; n++) {
    const f = frames[n]!;
    if (f.length !== per) {
      throw new RangeError(`frame ${n}: ${f.length} bytes, expected ${per} (${width}×${height} rgb24)`);
    }
    const base = n * per;
    if (norm.layout === 'NCHW') {
      for (let c = 0; c < 3; c++) {
        const s = src[c]!;
        const ac = a[c]!;
        const bc = b[c]!;
        const o = base + c * plane;
        for (let p = 0, q = s; p < plane; p++, q += 3) data[o + p] = f[q]! * ac + bc;
      }
    } else {
      for (let p = 0, q = 0; p < plane; p++, q += 3) {
        const o = base + q;
        for (let c = 0; c < 3; c++) data[o + c] = f[q + src[c]!]! * a[c]! + b[c]!;
      }
    }
  }
  return data;
}

/**
 * Bilinear resize of an rgb24 picture with half-pixel centres (OpenCV's INTER_LINEAR without its fixed-point
 * rounding). Returns the input unchanged when the size already matches.
 */
export function resizeRgb(pic: RgbPicture, width: number, height: number): RgbPicture {
  if (pic.width === width && pic.height === height) return pic;
  if (pic.data.length !== pic.width * pic.height * 3) {
    throw new RangeError(`picture: ${pic.data.length} bytes, expected ${pic.width}×${pic.height}×3`);
  }
  const out = new Uint8Array(width * height * 3);
  const sx = pic.width / width;
  const sy = pic.height / height;
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const wxs = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), pic.width - 1);
    const x0 = Math.floor(fx);
    x0s[x] = x0 * 3;
    x1s[x] = Math.min(x0 + 1, pic.width - 1) * 3;
    wxs[x] = fx - x0;
  }
  const src = pic.data;
  const stride = pic.width * 3;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), pic.height - 1);
    const y0 = Math.floor(fy);
    const r0 = y0 * stride;
    const r1 = Math.min(y0 + 1, pic.height - 1) * stride;
    const wy = fy - y0;
    let o = y * width * 3;
    for (let x = 0; x < width; x++) {
      const a = x0s[x]!;
      const b = x1s[x]!;
      const wx = wxs[x]!;
      for (let c = 0; c < 3; c++, o++) {
        const top = src[r0 + a + c]! + (src[r0 + b + c]! - src[r0 + a + c]!) * wx;
        const bottom = src[r1 + a + c]! + (src[r1 + b + c]! - src[r1 + a + c]!) * wx;
        out[o] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { width, height, data: out };
}

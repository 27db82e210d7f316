// Synthetic yuv420p frame sequences for detector unit tests: seeded textured "scenes" seen through a moving
// virtual camera, joined by cuts, dissolves and fades, with flashes and exposure changes; every frame is made in
// memory at the analysis size, so a test runs in milliseconds and knows its truth exactly.
import { lerpView, type View } from '../../bench/corpus/motion.ts';
import { seededRandom } from '../../lib/matchcut/synthetic.ts';

export const W = 64;
export const H = 36;
const CW = 256;
const CH = 144;

/** A smooth random picture (sum of random waves plus blobs), Y/U/V planes at canvas size. */
export interface Scene {
  y: Float32Array;
  u: Float32Array;
  v: Float32Array;
}

export function scene(seed: number): Scene {
  const r = seededRandom(seed);
  const plane = (base: number, amp: number) => {
    const p = new Float32Array(CW * CH).fill(base);
    for (let k = 0; k < 14; k++) {
      const fx = (r() - 0.5) * 0.25;
      const fy = (r() - 0.5) * 0.25;
      const ph = r() * 2 * Math.PI;
      const a = (amp * (0.3 + r())) / 6;
      for (let y = 0; y < CH; y++)
        for (let x = 0; x < CW; x++) p[y * CW + x]! += a * Math.sin(fx * x + fy * y + ph);
    }
    for (let k = 0; k < 10; k++) {
      const cx = r() * CW;
      const cy = r() * CH;
      const rad = 6 + r() * 24;
      const a = (r() - 0.5) * amp * 1.6;
      for (let y = 0; y < CH; y++) {
        for (let x = 0; x < CW; x++) {
          const d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (rad * rad);
          if (d2 < 4) p[y * CW + x]! += a * Math.exp(-d2);
        }
      }
    }
    return p;
  };
  return {
    y: plane(40 + r() * 150, 90),
    u: plane(128 + (r() - 0.5) * 50, 30),
    v: plane(128 + (r() - 0.5) * 50, 30),
  };
}

function sample(p: Float32Array, x: number, y: number): number {
  const x0 = Math.max(0, Math.min(CW - 2, Math.floor(x)));
  const y0 = Math.max(0, Math.min(CH - 2, Math.floor(y)));
  const fx = Math.min(1, Math.max(0, x - x0));
  const fy = Math.min(1, Math.max(0, y - y0));
  const i = y0 * CW + x0;
  return (p[i]! * (1 - fx) + p[i + 1]! * fx) * (1 - fy) + (p[i + CW]! * (1 - fx) + p[i + CW + 1]! * fx) * fy;
}

/** One frame (float planes, analysis size) of a scene through a view. */
export interface FloatFrame {
  y: Float32Array;
  u: Float32Array;
  v: Float32Array;
}

export function shoot(s: Scene, view: View): FloatFrame {
  const vw = CW / view.z;
  const vh = CH / view.z;
  const x0 = view.cx * CW - vw / 2;
  const y0 = view.cy * CH - vh / 2;
  const grab = (p: Float32Array, w: number, h: number) => {
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++)
        out[y * w + x] = sample(p, x0 + ((x + 0.5) * vw) / w, y0 + ((y + 0.5) * vh) / h);
    }
    return out;
  };
  return { y: grab(s.y, W, H), u: grab(s.u, W / 2, H / 2), v: grab(s.v, W / 2, H / 2) };
}

export const BLACK: FloatFrame = {
  y: new Float32Array(W * H).fill(16),
  u: new Float32Array((W * H) / 4).fill(128),
  v: new Float32Array((W * H) / 4).fill(128),
};

export function mix(a: FloatFrame, b: FloatFrame, wb: number): FloatFrame {
  const m = (p: Float32Array, q: Float32Array) => p.map((x, i) => x + (q[i]! - x) * wb);
  return { y: m(a.y, b.y), u: m(a.u, b.u), v: m(a.v, b.v) };
}

export function brighten(f: FloatFrame, gain: number): FloatFrame {
  return { ...f, y: f.y.map((x) => x + gain) };
}

/** To the bytes the reader hands out (yuv420p), with a little seeded noise like a real decode. */
export function toYuv(f: FloatFrame, noise = 0, seed = 0): Uint8Array {
  const r = seededRandom(seed);
  const out = new Uint8Array(W * H * 1.5);
  const put = (p: Float32Array, at: number) => {
    for (let i = 0; i < p.length; i++) {
      out[at + i] = Math.max(0, Math.min(255, Math.round(p[i]! + (noise ? (r() - 0.5) * 2 * noise : 0))));
    }
  };
  put(f.y, 0);
  put(f.u, W * H);
  put(f.v, W * H + (W * H) / 4);
  return out;
}

/** A shot: `frames` frames of a scene while the camera moves from one view to another. */
export function shot(s: Scene, frames: number, from: View, to: View = from): FloatFrame[] {
  return Array.from({ length: frames }, (_, i) =>
    shoot(s, lerpView(from, to, frames > 1 ? i / (frames - 1) : 0)),
  );
}

/** Overlaps the last `n` frames of `a` with the first `n` of `b`, blended linearly (a dissolve). */
export function dissolve(a: FloatFrame[], b: FloatFrame[], n: number): FloatFrame[] {
  const blend = Array.from({ length: n }, (_, j) => mix(a[a.length - n + j]!, b[j]!, (j + 1) / (n + 1)));
  return [...a.slice(0, a.length - n), ...blend, ...b.slice(n)];
}

/** The last `n` frames of a shot fade to black (partial frames only). */
export const fadeOut = (a: FloatFrame[], n: number) =>
  a.map((f, i) => (i >= a.length - n ? mix(f, BLACK, (i - (a.length - n) + 1) / (n + 1)) : f));

/** The first `n` frames of a shot fade in from black. */
export const fadeIn = (a: FloatFrame[], n: number) =>
  a.map((f, i) => (i < n ? mix(BLACK, f, (i + 1) / (n + 1)) : f));

export const black = (n: number) => Array.from({ length: n }, () => BLACK);

// Virtual camera moves over a photo: a window (centre and zoom, in units of the photo canvas) interpolated
// linearly from a start to an end window over the shot. Classes and speeds label the motion for the match-cut
// ground truth.

/** A view of the canvas: centre (cx, cy) in [0, 1] canvas units, zoom z ≥ 1 (the window is 1/z of the canvas). */
export interface View {
  cx: number;
  cy: number;
  z: number;
}

export type MotionClass =
  | 'static'
  | 'pan-left'
  | 'pan-right'
  | 'pan-up'
  | 'pan-down'
  | 'zoom-in'
  | 'zoom-out';

export interface Motion {
  class: MotionClass;
  /** Window translation per second, in window widths (pans); 0 for zooms and static shots. */
  panSpeed: number;
  /** ln(zoom ratio) per second: > 0 zooming in. */
  zoomRate: number;
}

export const fits = (v: View) =>
  v.z >= 1 &&
  v.cx - 0.5 / v.z >= -1e-9 &&
  v.cx + 0.5 / v.z <= 1 + 1e-9 &&
  v.cy - 0.5 / v.z >= -1e-9 &&
  v.cy + 0.5 / v.z <= 1 + 1e-9;

export const lerpView = (a: View, b: View, t: number): View => ({
  cx: a.cx + (b.cx - a.cx) * t,
  cy: a.cy + (b.cy - a.cy) * t,
  z: a.z + (b.z - a.z) * t,
});

/** Intersection over union of two windows. */
export function iou(a: View, b: View): number {
  const box = (v: View) => [v.cx - 0.5 / v.z, v.cy - 0.5 / v.z, v.cx + 0.5 / v.z, v.cy + 0.5 / v.z] as const;
  const [ax0, ay0, ax1, ay1] = box(a);
  const [bx0, by0, bx1, by1] = box(b);
  const w = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const h = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const inter = w * h;
  return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter);
}

/** The class and speeds of a move from `from` to `to` over `seconds`. */
export function classify(from: View, to: View, seconds: number): Motion {
  const zMean = Math.sqrt(from.z * to.z);
  const dx = (to.cx - from.cx) * zMean;
  const dy = (to.cy - from.cy) * zMean;
  const pan = Math.hypot(dx, dy);
  const zoom = Math.log(to.z / from.z);
  const panSpeed = pan / seconds;
  const zoomRate = zoom / seconds;
  if (Math.abs(zoom) >= 0.08 && Math.abs(zoom) >= 0.5 * pan) {
    return { class: zoom > 0 ? 'zoom-in' : 'zoom-out', panSpeed: 0, zoomRate };
  }
  if (pan < 0.08) return { class: 'static', panSpeed: 0, zoomRate: 0 };
  const cls =
    Math.abs(dx) >= Math.abs(dy) ? (dx < 0 ? 'pan-left' : 'pan-right') : dy < 0 ? 'pan-up' : 'pan-down';
  return { class: cls, panSpeed, zoomRate: 0 };
}

/** Same class and speeds within a factor 1.6: what an editor would call the same camera move. */
export function sameMove(a: Motion, b: Motion): boolean {
  if (a.class !== b.class || a.class === 'static') return false;
  const [x, y] = a.class.startsWith('zoom')
    ? [Math.abs(a.zoomRate), Math.abs(b.zoomRate)]
    : [a.panSpeed, b.panSpeed];
  return Math.max(x, y) <= 1.6 * Math.min(x, y);
}

type Rand = () => number;
const between = (r: Rand, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * r();

/** A start position along one axis such that a move by `d` keeps a window of half-size `h` inside [0, 1]. */
function startFor(r: Rand, d: number, h: number): number {
  const lo = h - Math.min(0, d);
  const hi = 1 - h - Math.max(0, d);
  return lo + (hi - lo) * r();
}

/**
 * A random camera move over `seconds`: static, pan (8 directions, slow to whip), zoom in/out, or both.
 * Always inside the canvas (the windows at both ends fit, hence every window between).
 */
export function randomMove(r: Rand, seconds: number): { from: View; to: View } {
  const u = r();
  if (u < 0.2) {
    const z = between(r, [1.1, 2]);
    const v = { cx: startFor(r, 0, 0.5 / z), cy: startFor(r, 0, 0.5 / z), z };
    return { from: v, to: v };
  }
  if (u < 0.65) return pan(r, seconds);
  if (u < 0.9) return zoom(r, seconds, 0);
  return zoom(r, seconds, 0.15);
}

function pan(r: Rand, seconds: number): { from: View; to: View } {
  const angle = (Math.floor(r() * 8) * Math.PI) / 4 + between(r, [-0.15, 0.15]);
  const tier = r();
  const speed =
    tier < 0.4 ? between(r, [0.06, 0.15]) : tier < 0.85 ? between(r, [0.15, 0.4]) : between(r, [0.4, 0.9]);
  let z = between(r, [1.3, 2.2]);
  // Window widths travelled; the canvas must leave room for it, else zoom in further (or slow down).
  const travel = speed * seconds;
  for (let k = 0; k < 20 && travel / z > (1 - 1 / z) * 0.95; k++) z *= 1.08;
  const dist = Math.min(travel / z, (1 - 1 / z) * 0.95);
  const dx = dist * Math.cos(angle);
  const dy = dist * Math.sin(angle);
  const h = 0.5 / z;
  const from = { cx: startFor(r, dx, h), cy: startFor(r, dy, h), z };
  return { from, to: { cx: from.cx + dx, cy: from.cy + dy, z } };
}

function zoom(r: Rand, seconds: number, drift: number): { from: View; to: View } {
  const z0 = between(r, [1.05, 1.5]);
  const z1 = z0 * Math.exp(Math.min(0.6, Math.max(0.1, between(r, [0.06, 0.22]) * seconds)));
  const h = 0.5 / z0;
  const c = { cx: startFor(r, 0, h), cy: startFor(r, 0, h) };
  const wide = { ...c, z: z0 };
  const hd = 0.5 / z1;
  const tight = {
    cx: Math.min(1 - hd, Math.max(hd, c.cx + between(r, [-drift, drift]))),
    cy: Math.min(1 - hd, Math.max(hd, c.cy + between(r, [-drift, drift]))),
    z: z1,
  };
  return r() < 0.5 ? { from: wide, to: tight } : { from: tight, to: wide };
}

/** The same camera move (same zoom path and translation) from another random start that fits. */
export function sameMoveElsewhere(r: Rand, from: View, to: View): { from: View; to: View } {
  const dx = to.cx - from.cx;
  const dy = to.cy - from.cy;
  const h = 0.5 / Math.min(from.z, to.z);
  const start = { cx: startFor(r, dx, h), cy: startFor(r, dy, h), z: from.z };
  return { from: start, to: { cx: start.cx + dx, cy: start.cy + dy, z: to.z } };
}

/**
 * A window over the same photo that overlaps `mid` (IoU ≥ 0.5) but is framed differently (shifted, zoomed),
 * with a small move of its own: the same composition in another shot.
 */
export function reframe(r: Rand, mid: View, seconds: number): { from: View; to: View } {
  for (let attempt = 0; attempt < 50; attempt++) {
    const z = mid.z * between(r, [0.85, 1.2]);
    const h = 0.5 / z;
    const shift = between(r, [0.05, 0.15]) / z;
    const a = r() * 2 * Math.PI;
    const c = {
      cx: Math.min(1 - h, Math.max(h, mid.cx + shift * Math.cos(a))),
      cy: Math.min(1 - h, Math.max(h, mid.cy + shift * Math.sin(a))),
      z,
    };
    const drift = (between(r, [0, 0.12]) * seconds) / z;
    const b = r() * 2 * Math.PI;
    const from = { cx: c.cx - (drift / 2) * Math.cos(b), cy: c.cy - (drift / 2) * Math.sin(b), z };
    const to = { cx: c.cx + (drift / 2) * Math.cos(b), cy: c.cy + (drift / 2) * Math.sin(b), z };
    if (fits(from) && fits(to) && iou(lerpView(from, to, 0.5), mid) >= 0.5) return { from, to };
  }
  const z = Math.min(mid.z * 1.1, 4);
  return { from: { ...mid, z }, to: { ...mid, z } };
}

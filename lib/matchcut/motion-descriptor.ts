// A shot's camera motion as a vector whose cosine similarity says "the same camera move": direction and speed of
// the pan, or direction and rate of the zoom, each softly binned (speeds on a log scale, so 1.6× apart is still
// similar and 3× apart is not). Static shots have no motion to match and get no vector.
import type { CameraStep } from './camera-motion.ts';

export interface ShotMotion {
  /** Content velocity in frame widths per second (x right, y down). */
  vx: number;
  vy: number;
  /** Relative scale change per second (> 0: zooming in). */
  zoom: number;
  /** Steps that had enough texture to measure. */
  measured: number;
  /** The shot's duration. */
  seconds: number;
}

/**
 * A camera that travels less than 8 % of the frame width over the whole shot, and zooms by less than 8 %, is
 * static: there is no move to match.
 */
export const STATIC_TRAVEL = 0.08;
export const STATIC_ZOOM = 0.08;

const DIRECTIONS = 8;
/** Speed bin centres: 0.02 · 2^j frame widths (or scale) per second. */
const SPEED_BINS = 6;
const SPEED_BASE = 0.02;
/** Width of a speed bin in octaves: speeds 1.6× apart keep a cosine ≈ 0.7, 3× apart ≈ 0.2. */
const SPEED_SIGMA = 0.6;
/** How sharply a direction belongs to its neighbouring bins. */
const DIRECTION_POWER = 4;
/** A zoom of rate z moves the frame's edges by z/2 widths per second: comparable with a pan that fast. */
const ZOOM_EDGE_SPEED = 0.5;

export const MOTION_DIM = DIRECTIONS * SPEED_BINS + 2 * SPEED_BINS;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The shot's motion from camera steps each spanning `stepSec` seconds on frames `width` pixels wide: the median
 * of the measured steps, robust to the odd step a passing object throws off.
 */
export function shotMotion(
  steps: readonly CameraStep[],
  stepSec: number,
  width: number,
  seconds: number,
): ShotMotion {
  const ok = steps.filter((s) => s.support >= 0.25);
  if (ok.length === 0) return { vx: 0, vy: 0, zoom: 0, measured: 0, seconds };
  return {
    vx: median(ok.map((s) => s.tx)) / width / stepSec,
    vy: median(ok.map((s) => s.ty)) / width / stepSec,
    zoom: median(ok.map((s) => s.s)) / stepSec,
    measured: ok.length,
    seconds,
  };
}

export function isStatic(m: ShotMotion): boolean {
  return (
    m.measured === 0 ||
    (Math.hypot(m.vx, m.vy) * m.seconds < STATIC_TRAVEL && Math.abs(m.zoom) * m.seconds < STATIC_ZOOM)
  );
}

function speedBins(speed: number): number[] {
  const octave = Math.log2(Math.max(speed, 1e-6) / SPEED_BASE);
  return Array.from({ length: SPEED_BINS }, (_, j) =>
    Math.exp(-((octave - j) ** 2) / (2 * SPEED_SIGMA ** 2)),
  );
}

/** The motion vector of a moving shot (not normalized), or undefined for a static one. */
export function motionDescriptor(m: ShotMotion): Float32Array | undefined {
  if (isStatic(m)) return undefined;
  const out = new Float32Array(MOTION_DIM);
  const pan = Math.hypot(m.vx, m.vy);
  const zoomEdge = ZOOM_EDGE_SPEED * Math.abs(m.zoom);
  const panShare = pan / (pan + zoomEdge);
  const angle = Math.atan2(m.vy, m.vx);
  const speeds = speedBins(pan);
  for (let d = 0; d < DIRECTIONS; d++) {
    const w = Math.max(0, Math.cos(angle - (2 * Math.PI * d) / DIRECTIONS)) ** DIRECTION_POWER;
    for (let j = 0; j < SPEED_BINS; j++) out[d * SPEED_BINS + j] = panShare * w * speeds[j]!;
  }
  const zoomOffset = DIRECTIONS * SPEED_BINS + (m.zoom > 0 ? 0 : SPEED_BINS);
  const rates = speedBins(Math.abs(m.zoom));
  for (let j = 0; j < SPEED_BINS; j++) out[zoomOffset + j] = (1 - panShare) * rates[j]!;
  return out;
}

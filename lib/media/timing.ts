// Frame timing: rationals, packet-timestamp statistics (VFR detection) and the standard frame rate of a recipe.

export interface Rational {
  num: number;
  den: number;
}

/** "24000/1001" or "16:9" → a positive rational; "0/0", "N/A" or garbage → null. */
export function parseRational(s: string | undefined | null): Rational | null {
  const m = /^\s*(\d+)\s*[/:]\s*(\d+)\s*$/.exec(s ?? '');
  if (!m) return null;
  const num = Number(m[1]);
  const den = Number(m[2]);
  return num > 0 && den > 0 ? reduce({ num, den }) : null;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export function reduce(r: Rational): Rational {
  const g = gcd(r.num, r.den) || 1;
  return { num: r.num / g, den: r.den / g };
}

export const ratio = (r: Rational): number => r.num / r.den;
export const formatRational = (r: Rational): string => `${r.num}/${r.den}`;

export interface TimingStats {
  /** Packets with a timestamp. */
  timestamps: number;
  medianIntervalSec: number | null;
  minIntervalSec: number | null;
  maxIntervalSec: number | null;
  /** Intervals off the median by more than max(2 ticks, 10 %): dropped, inserted or jittered frames. */
  irregularIntervals: number;
  /** Last timestamp − first + one median interval: the span the frames cover. */
  spanSec: number | null;
  vfr: boolean;
}

/**
 * Statistics of presentation timestamps (in `timeBase` ticks, any order: B-frames arrive out of order).
 * A stream is variable-frame-rate when its frame intervals are not all (within rounding) the same.
 */
export function analyzeTimestamps(pts: Float64Array, timeBase: Rational): TimingStats {
  const tick = timeBase.num / timeBase.den;
  const sorted = Float64Array.from(pts.filter(Number.isFinite)).sort();
  const n = sorted.length;
  if (n < 2) {
    return {
      timestamps: n,
      medianIntervalSec: null,
      minIntervalSec: null,
      maxIntervalSec: null,
      irregularIntervals: 0,
      spanSec: null,
      vfr: false,
    };
  }
  const deltas = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) deltas[i - 1] = sorted[i]! - sorted[i - 1]!;
  const byValue = Float64Array.from(deltas).sort();
  const median = byValue[Math.floor((byValue.length - 1) / 2)]!;
  const tolerance = Math.max(2, median * 0.1);
  let irregular = 0;
  for (const d of deltas) if (Math.abs(d - median) > tolerance) irregular++;
  return {
    timestamps: n,
    medianIntervalSec: median * tick,
    minIntervalSec: byValue[0]! * tick,
    maxIntervalSec: byValue[byValue.length - 1]! * tick,
    irregularIntervals: irregular,
    spanSec: (sorted[n - 1]! - sorted[0]! + median) * tick,
    vfr: irregular >= Math.max(2, 0.001 * deltas.length),
  };
}

const MAX_STANDARD_FPS = 60;

/**
 * A rate within `tolerance` (relative) of an integer n or of n·1000/1001 snaps to the nearer of the two; any
 * other rate keeps three decimals. 25 → 25/1, 29.97 → 30000/1001, 12.5 → 25/2.
 */
export function snapFrameRate(fps: number, tolerance = 0.0005): Rational {
  const n = Math.max(1, Math.round(fps));
  const ntsc = Math.max(1, Math.round((fps * 1001) / 1000));
  const options: Rational[] = [
    { num: n, den: 1 },
    { num: ntsc * 1000, den: 1001 },
  ];
  const error = (r: Rational) => Math.abs(fps - ratio(r)) / fps;
  const best = options.sort((a, b) => error(a) - error(b))[0]!;
  return error(best) <= tolerance ? best : reduce({ num: Math.max(1, Math.round(fps * 1000)), den: 1000 });
}

/**
 * The constant frame rate a source is standardized to: the container's rate (r_frame_rate, else
 * avg_frame_rate) when the measured median frame interval agrees with it within 3 %, else the measured rate
 * (snapped more loosely: timestamps are quantized by the time base); then divided by the smallest integer that
 * brings it to ≤ 60 fps (120 → 60, 100 → 50), which keeps the cadence.
 */
export function standardFrameRate(source: {
  medianIntervalSec: number | null;
  realFps: number | null;
  avgFps: number | null;
}): { rate: Rational; decimation: number } | null {
  const sane = (f: number | null): f is number => f !== null && Number.isFinite(f) && f >= 1 && f <= 1000;
  const measured = source.medianIntervalSec ? 1 / source.medianIntervalSec : null;
  const declared = [source.realFps, source.avgFps].filter(sane);
  const agreeing = declared.find((f) => !sane(measured) || Math.abs(f - measured) / measured < 0.03);
  let snapped: Rational;
  if (agreeing !== undefined) snapped = snapFrameRate(agreeing);
  else if (sane(measured)) snapped = snapFrameRate(measured, 0.01);
  else return null;
  const decimation = Math.max(1, Math.ceil(ratio(snapped) / MAX_STANDARD_FPS - 1e-9));
  return { rate: reduce({ num: snapped.num, den: snapped.den * decimation }), decimation };
}

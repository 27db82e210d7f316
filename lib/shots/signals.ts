// Per-frame signals, computed as frames stream in: only a ring of recent thumbs is kept (a fixed lag behind the
// newest frame), so memory is a few numbers per frame whatever the length. The decisions (decide.ts) read these
// signals only.
import { unexplainedByMotion } from './align.ts';
import { alignedBlendFit, blendFit, shiftedDistance } from './distance.ts';
import { Series } from './series.ts';
import { makeThumb, type Thumb, type ThumbGeometry } from './thumb.ts';

export interface SignalOptions {
  /** Half-widths (frames) of the windows tested for a blend (dissolve or fade) centred on each frame. */
  scales: number[];
  /** Largest global shift (half-size pixels) compensated between consecutive frames. */
  shiftRadius: number;
  /** A candidate cut is compared across this many frames on each side (a flash of fewer frames is no cut). */
  returnFrames: number;
  /** Consecutive-frame distance from which a frame is a candidate cut (and its `cross` is computed). */
  candidateFloor: number;
  /** Blend windows whose ends differ by at least this much (and that roughly fit a blend) get the motion-
   * compensated fit. */
  blendFloor: number;
  /** Largest shift (half-size pixels) of an end onto the middle frame in that fit. */
  alignRadius: number;
  /** Windows whose ends correlate more than this are never dissolves (decide.ts): no aligned fit for them. */
  maxCorrelation: number;
}

export interface Signals {
  frames: number;
  scales: number[];
  /** cut[t]: shifted distance between frames t − 1 and t (cut[0] = 0). */
  cut: Float32Array;
  /** cross[t] (candidate cuts only, else NaN): the smallest distance between any of the R frames before t and
   * any of the R frames from t on. Large after a real cut; small when the picture comes back (a flash). */
  cross: Float32Array;
  meanY: Float32Array;
  stdY: Float32Array;
  /** Per scale s, frame t as a blend of frames t − k and t + k after shifting both onto it (whole pixels):
   * computed for plausible windows only, else NaN. */
  alpha: Float32Array[];
  residual: Float32Array[];
  spread: Float32Array[];
  /** The ends' luma correlation without alignment (every window not too close to either end of the video). */
  correlation: Float32Array[];
  /** For windows that fit a blend: how much of the ends' difference camera motion cannot explain (0–1). */
  unexplained: Float32Array[];
}

export class SignalStream {
  readonly #g: ThumbGeometry;
  readonly #o: SignalOptions;
  readonly #ring: Thumb[];
  readonly #lag: number;
  #n = 0;
  readonly #cut = new Series();
  readonly #cross = new Series();
  readonly #meanY = new Series();
  readonly #stdY = new Series();
  readonly #alpha: Series[];
  readonly #residual: Series[];
  readonly #spread: Series[];
  readonly #correlation: Series[];
  readonly #unexplained: Series[];
  #nextCross = 1;
  #nextCentre = 0;

  constructor(g: ThumbGeometry, o: SignalOptions) {
    this.#g = g;
    this.#o = o;
    const kmax = Math.max(...o.scales);
    this.#lag = Math.max(kmax, o.returnFrames);
    this.#ring = new Array(2 * this.#lag + 2);
    this.#alpha = o.scales.map(() => new Series());
    this.#residual = o.scales.map(() => new Series());
    this.#spread = o.scales.map(() => new Series());
    this.#correlation = o.scales.map(() => new Series());
    this.#unexplained = o.scales.map(() => new Series());
  }

  /** Frames needed on each side of a frame for its signals: the widest blend window, the cut's return check. */
  static contextFrames(o: SignalOptions): number {
    return Math.max(...o.scales, o.returnFrames) + 1;
  }

  get frames(): number {
    return this.#n;
  }

  #thumb(i: number): Thumb {
    return this.#ring[i % this.#ring.length]!;
  }

  #distance(i: number, j: number): number {
    return shiftedDistance(this.#g, this.#thumb(i), this.#thumb(j), this.#o.shiftRadius);
  }

  /** Adds the next frame (yuv420p at the analysis size). */
  push(yuv: Uint8Array): void {
    const n = this.#n++;
    // The slot's previous thumb (frame n − ring length) is no longer needed: its arrays are reused.
    const t = makeThumb(this.#g, yuv, this.#ring[n % this.#ring.length]);
    this.#ring[n % this.#ring.length] = t;
    this.#meanY.set(n, t.meanY);
    this.#stdY.set(n, t.stdY);
    this.#cut.set(n, n > 0 ? this.#distance(n - 1, n) : 0);
    this.#advance(n);
  }

  /** Computes every lagged signal whose frames are all in (frames up to `last`). */
  #advance(last: number): void {
    const R = this.#o.returnFrames;
    while (this.#nextCross <= last - R + 1) this.#computeCross(this.#nextCross++, last);
    while (this.#nextCentre <= last - this.#lag) this.#computeCentre(this.#nextCentre++, last);
  }

  #computeCross(t: number, last: number): void {
    const c = this.#cut.get(t);
    if (!(c >= this.#o.candidateFloor)) return;
    const R = this.#o.returnFrames;
    let cross = c;
    for (let a = Math.max(0, t - R); a < t; a++) {
      for (let b = t; b < t + R && b <= last; b++) {
        if (a !== t - 1 || b !== t) cross = Math.min(cross, this.#distance(a, b));
      }
    }
    this.#cross.set(t, cross);
  }

  #computeCentre(t: number, last: number): void {
    this.#o.scales.forEach((k, s) => {
      if (t - k < 0 || t + k > last) return;
      const [a, b, m] = [this.#thumb(t - k), this.#thumb(t + k), this.#thumb(t)];
      const rough = blendFit(a, b, m, this.#o.blendFloor);
      this.#correlation[s]!.set(t, rough.correlation);
      // Cheap test first (quarter size, no alignment); only plausible windows get the aligned fit.
      const plausible =
        rough.spread >= this.#o.blendFloor &&
        rough.correlation <= this.#o.maxCorrelation &&
        rough.alpha >= 0.15 &&
        rough.alpha <= 0.85 &&
        rough.residual <= 0.5 * rough.spread;
      if (!plausible) return;
      const fit = alignedBlendFit(this.#g, a, b, m, this.#o.alignRadius);
      this.#alpha[s]!.set(t, fit.alpha);
      this.#residual[s]!.set(t, fit.residual);
      this.#spread[s]!.set(t, fit.spread);
      const fits =
        fit.spread >= this.#o.blendFloor &&
        fit.alpha >= 0.2 &&
        fit.alpha <= 0.8 &&
        fit.residual <= 0.3 * fit.spread;
      if (fits) this.#unexplained[s]!.set(t, unexplainedByMotion(this.#g, a, b, this.#o.alignRadius + 1));
    });
  }

  /** The signals of every frame pushed; call once, after the last frame. */
  finish(): Signals {
    const last = this.#n - 1;
    while (this.#nextCross <= last) this.#computeCross(this.#nextCross++, last);
    while (this.#nextCentre <= last) this.#computeCentre(this.#nextCentre++, last);
    const n = this.#n;
    return {
      frames: n,
      scales: this.#o.scales,
      cut: this.#cut.toArray(n),
      cross: this.#cross.toArray(n),
      meanY: this.#meanY.toArray(n),
      stdY: this.#stdY.toArray(n),
      alpha: this.#alpha.map((s) => s.toArray(n)),
      residual: this.#residual.map((s) => s.toArray(n)),
      spread: this.#spread.map((s) => s.toArray(n)),
      correlation: this.#correlation.map((s) => s.toArray(n)),
      unexplained: this.#unexplained.map((s) => s.toArray(n)),
    };
  }
}

export interface SignalPart {
  signals: Signals;
  /** The video frame of the part's first frame. */
  first: number;
  /** The video frames [from, to) taken from this part (its frames beyond were context only). */
  from: number;
  to: number;
}

/**
 * The signals of a whole video from streams over overlapping parts of it: each part gives the frames at least
 * `SignalStream.contextFrames` inside its own ends (or at the video's ends), whose signals are exactly those one
 * stream over the whole video computes.
 */
export function stitchSignals(parts: SignalPart[], frames: number): Signals {
  const { scales } = parts[0]!.signals;
  const series = () => new Float32Array(frames).fill(Number.NaN);
  const out: Signals = {
    frames,
    scales,
    cut: series(),
    cross: series(),
    meanY: series(),
    stdY: series(),
    alpha: scales.map(series),
    residual: scales.map(series),
    spread: scales.map(series),
    correlation: scales.map(series),
    unexplained: scales.map(series),
  };
  for (const { signals: s, first, from, to } of parts) {
    const copy = (dst: Float32Array, src: Float32Array) =>
      dst.set(src.subarray(from - first, to - first), from);
    copy(out.cut, s.cut);
    copy(out.cross, s.cross);
    copy(out.meanY, s.meanY);
    copy(out.stdY, s.stdY);
    for (const name of ['alpha', 'residual', 'spread', 'correlation', 'unexplained'] as const) {
      for (const [k, dst] of out[name].entries()) copy(dst, s[name][k]!);
    }
  }
  return out;
}

// Fades: blank frames (black, or any flat colour) reached or left through a ramp of frames whose contrast
// falls or grows steadily. A fade-out's boundary is its first blank frame, a fade-in's the first frame after the
// blank. A fade through black that never quite reaches blank shows as a deep, ramped dip in contrast instead.
import { type Boundary, confidenceOf, type DecideOptions } from './boundary.ts';
import type { Signals } from './signals.ts';

/**
 * From `edge` (next to the blank), the farthest frame away from it (step `dir`) while the picture keeps moving
 * away from the blank: its distance from it, |mean − blank mean| + contrast, grows by more than 1 % a frame
 * (one stalled frame is allowed: encoding noise).
 */
function rampEnd(sig: Signals, blankMean: number, edge: number, dir: 1 | -1): number {
  const away = (t: number) => Math.abs(sig.meanY[t]! - blankMean) + sig.stdY[t]!;
  const grows = (from: number, to: number) =>
    to >= 0 && to < sig.frames && away(to) - away(from) > Math.max(0.3, 0.01 * away(to));
  let t = edge;
  for (;;) {
    if (grows(t, t + dir)) t += dir;
    else if (grows(t, t + 2 * dir) && grows(t + dir, t + 2 * dir)) t += 2 * dir;
    else return t;
  }
}

/** Maximal runs of blank frames, plus one-frame runs at deep ramped dips of contrast near black or white. */
function blankRuns(sig: Signals, blank: boolean[], o: DecideOptions): [number, number][] {
  const std = sig.stdY;
  const runs: [number, number][] = [];
  for (let t = 0; t < blank.length; t++) {
    if (blank[t]) {
      const start = t;
      while (t + 1 < blank.length && blank[t + 1]) t++;
      runs.push([start, t + 1]);
      continue;
    }
    const dark = sig.meanY[t]! <= o.blackLuma + 10 || sig.meanY[t]! >= o.whiteLuma - 10;
    const dip =
      dark &&
      std[t]! < 2 * o.blankStd &&
      t > 0 &&
      t + 1 < std.length &&
      std[t]! <= std[t - 1]! &&
      std[t]! <= std[t + 1]!;
    if (!dip) continue;
    const before = rampEnd(sig, sig.meanY[t]!, t, -1);
    const after = rampEnd(sig, sig.meanY[t]!, t, 1);
    const deep = Math.min(std[before]!, std[after]!) >= 4 * std[t]!;
    if (deep && t - before >= o.minFadeFrames && after - t >= o.minFadeFrames) runs.push([t, t + 1]);
  }
  return runs;
}

export function fades(sig: Signals, o: DecideOptions, blank: boolean[]): Boundary[] {
  const std = sig.stdY;
  const out: Boundary[] = [];
  // A fade leads to a picture: the far end of the ramp has contrast (a flat colour brightening is no shot).
  // Confidence grows with that contrast (5× the flat threshold counts as sure).
  const picture = (t: number) => std[t]! >= 2 * o.blankStd;
  const sure = (from: number) => confidenceOf(std[from]! / (2.5 * o.blankStd));
  for (const [b0, b1] of blankRuns(sig, blank, o)) {
    let blankMean = 0;
    for (let t = b0; t < b1; t++) blankMean += sig.meanY[t]! / (b1 - b0);
    if (b0 > 0) {
      const s = rampEnd(sig, blankMean, b0 - 1, -1);
      if (b0 - s >= o.minFadeFrames && picture(s)) {
        out.push({ frame: b0, type: 'gradual', kind: 'fade-out', span: [s, b0], confidence: sure(s) });
      }
    }
    if (b1 < std.length) {
      const e = rampEnd(sig, blankMean, b1, 1);
      if (e + 1 - b1 >= o.minFadeFrames && picture(e)) {
        out.push({ frame: b1, type: 'gradual', kind: 'fade-in', span: [b1, e + 1], confidence: sure(e) });
      }
    }
  }
  return out;
}

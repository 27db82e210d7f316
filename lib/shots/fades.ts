// Fades: blank frames (black, or any flat colour) reached or left through a ramp of frames whose contrast
// falls or grows steadily. A fade-out's boundary is its first blank frame, a fade-in's the first frame after the
// blank. A fade through black that never quite reaches blank shows as a deep, ramped dip in contrast instead.
import { type Boundary, confidenceOf, type DecideOptions } from './boundary.ts';
import type { Signals } from './signals.ts';

/** From `edge` (next to the blank), the farthest frame away from it (step `dir`) while contrast keeps growing. */
function rampEnd(std: Float32Array, edge: number, dir: 1 | -1): number {
  let t = edge;
  while (
    t + dir >= 0 &&
    t + dir < std.length &&
    std[t + dir]! - std[t]! > Math.max(0.2, 0.015 * std[t + dir]!)
  ) {
    t += dir;
  }
  return t;
}

/** Maximal runs of blank frames, plus one-frame runs at deep ramped dips of contrast. */
function blankRuns(std: Float32Array, blank: boolean[], o: DecideOptions): [number, number][] {
  const runs: [number, number][] = [];
  for (let t = 0; t < blank.length; t++) {
    if (blank[t]) {
      const start = t;
      while (t + 1 < blank.length && blank[t + 1]) t++;
      runs.push([start, t + 1]);
      continue;
    }
    const dip =
      std[t]! < 2 * o.blankStd &&
      t > 0 &&
      t + 1 < std.length &&
      std[t]! <= std[t - 1]! &&
      std[t]! <= std[t + 1]!;
    if (!dip) continue;
    const before = rampEnd(std, t, -1);
    const after = rampEnd(std, t, 1);
    const deep = Math.min(std[before]!, std[after]!) >= 4 * std[t]!;
    if (deep && t - before >= o.minFadeFrames && after - t >= o.minFadeFrames) runs.push([t, t + 1]);
  }
  return runs;
}

export function fades(sig: Signals, o: DecideOptions, blank: boolean[]): Boundary[] {
  const std = sig.stdY;
  const out: Boundary[] = [];
  // Confidence grows with the contrast the fade crosses (5× the blank threshold counts as sure).
  const sure = (from: number) => confidenceOf(std[from]! / (2.5 * o.blankStd));
  for (const [b0, b1] of blankRuns(std, blank, o)) {
    if (b0 > 0) {
      const s = rampEnd(std, b0 - 1, -1);
      if (b0 - s >= o.minFadeFrames) {
        out.push({ frame: b0, type: 'gradual', kind: 'fade-out', span: [s, b0], confidence: sure(s) });
      }
    }
    if (b1 < std.length) {
      const e = rampEnd(std, b1, 1);
      if (e + 1 - b1 >= o.minFadeFrames) {
        out.push({ frame: b1, type: 'gradual', kind: 'fade-in', span: [b1, e + 1], confidence: sure(e) });
      }
    }
  }
  return out;
}

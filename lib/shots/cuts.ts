// Hard cuts: a consecutive-frame distance well above its neighbourhood's (an adaptive threshold: fast motion
// raises the bar), a local peak, and still large across several frames on each side (a flash is not a cut).
import { type Boundary, confidenceOf, type DecideOptions } from './boundary.ts';
import type { Signals } from './signals.ts';

/** Mean of the values around t (±w, without t − 1 … t + 1), leaving out the two largest: other cuts. */
function localLevel(cut: Float32Array, t: number, w: number): number {
  const values: number[] = [];
  for (let j = Math.max(1, t - w); j <= Math.min(cut.length - 1, t + w); j++) {
    if (Math.abs(j - t) > 1) values.push(cut[j]!);
  }
  values.sort((a, b) => a - b);
  const kept = values.slice(0, Math.max(1, values.length - 2));
  return kept.reduce((s, v) => s + v, 0) / kept.length;
}

export function hardCuts(sig: Signals, o: DecideOptions): Boundary[] {
  const { cut, cross } = sig;
  const out: Boundary[] = [];
  for (let t = 1; t < sig.frames; t++) {
    const c = cut[t]!;
    if (!(c >= o.cutFloor) || c < cut[t - 1]! || (t + 1 < sig.frames && c <= cut[t + 1]!)) continue;
    const threshold = Math.max(o.cutFloor, o.cutRatio * localLevel(cut, t, o.contextFrames));
    const persists = cross[t]! >= o.cutPersistence * c;
    if (c >= threshold && persists) {
      out.push({
        frame: t,
        type: 'hard',
        kind: 'cut',
        span: [t, t],
        confidence: confidenceOf(c / threshold),
      });
    }
  }
  return out;
}

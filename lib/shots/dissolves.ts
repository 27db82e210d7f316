// Dissolves: runs of frames that are, each, a blend of the frames some distance before and after them (after
// shifting those onto it), with ends that no camera motion maps onto each other and that are not the same
// picture brighter or darker. Windows ending on blank or fading frames are left to fades.ts.
import { type Boundary, confidenceOf, type DecideOptions } from './boundary.ts';
import type { Signals } from './signals.ts';

/** No window may end on an `excluded` frame (blank, or inside a fade) nor on a `flat` one: a picture turning
 * into one uniform colour is a fade when it is black or white, and otherwise, far more often, a pan into a clear
 * sky. */
export function dissolves(sig: Signals, o: DecideOptions, excluded: boolean[], flat: boolean[]): Boundary[] {
  const n = sig.frames;
  const prefix = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) prefix[t + 1] = prefix[t]! + (t > 0 ? sig.cut[t]! : 0);
  // Per frame: the best scale at which it is the middle of a blend.
  const best: (Candidate | undefined)[] = new Array(n);
  sig.scales.forEach((k, s) => {
    const alpha = sig.alpha[s]!;
    const residual = sig.residual[s]!;
    const spread = sig.spread[s]!;
    const correlation = sig.correlation[s]!;
    const unexplained = sig.unexplained[s]!;
    for (let t = k; t + k < n; t++) {
      const sp = spread[t]!;
      if (!(sp >= o.minSpread)) continue;
      if (excluded[t - k] || excluded[t + k] || flat[t - k] || flat[t + k]) continue;
      const a = alpha[t]!;
      if (a < 0.25 || a > 0.75) continue;
      if (residual[t]! > o.maxResidual * sp) continue;
      if (correlation[t]! > o.maxCorrelation) continue;
      if (!(unexplained[t]! >= o.minUnexplained)) continue;
      const path = prefix[t + k + 1]! - prefix[t - k + 1]!;
      if (path > o.maxPath * sp) continue;
      let jump = 0;
      for (let j = t - k + 1; j <= t + k; j++) jump = Math.max(jump, sig.cut[j]!);
      if (jump > o.maxJump * sp) continue;
      const score = (sp / o.minSpread) * (1 - residual[t]! / (o.maxResidual * sp) / 2);
      if (!best[t] || score > best[t]!.score) best[t] = { t, scale: k, score };
    }
  });
  // Runs of middle frames are one transition each; a gap no longer than a half-width of the windows around it is
  // noise inside one long dissolve, not two.
  const out: Boundary[] = [];
  let run: Candidate[] = [];
  const flush = () => {
    if (run.length) out.push(transitionOf(run));
    run = [];
  };
  for (let t = 0; t < n; t++) {
    const c = best[t];
    if (!c) continue;
    const last = run[run.length - 1];
    if (last && t - last.t > Math.max(2, last.scale, c.scale)) flush();
    run.push(c);
  }
  flush();
  return out;
}

interface Candidate {
  t: number;
  scale: number;
  score: number;
}

/**
 * One run of middle frames: the boundary at its centre (where the blend is half-way). The middle frames are the
 * dissolve's middle; its span reaches half the best window further each way.
 */
function transitionOf(run: Candidate[]): Boundary {
  const first = run[0]!.t;
  const last = run[run.length - 1]!.t;
  const top = run.reduce((a, b) => (b.score > a.score ? b : a));
  const reach = Math.ceil(top.scale / 2);
  const span: [number, number] = [Math.min(first, top.t - reach), Math.max(last + 1, top.t + reach + 1)];
  const frame = Math.round((first + last) / 2);
  return { frame, type: 'gradual', kind: 'dissolve', span, confidence: confidenceOf(top.score) };
}

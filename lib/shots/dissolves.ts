// Dissolves: runs of frames that are, each, a blend of the frames some distance before and after them (after
// shifting those onto it), with ends that no camera motion maps onto each other and that are not the same
// picture brighter or darker. Blank ends are left to fades.ts.
import { type Boundary, confidenceOf, type DecideOptions } from './boundary.ts';
import type { Signals } from './signals.ts';

export function dissolves(sig: Signals, o: DecideOptions, blank: boolean[]): Boundary[] {
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
      if (blank[t - k] || blank[t + k]) continue;
      const a = alpha[t]!;
      if (a < 0.25 || a > 0.75) continue;
      if (residual[t]! > o.maxResidual * sp) continue;
      if (correlation[t]! > o.maxCorrelation) continue;
      if (!(unexplained[t]! >= o.minUnexplained)) continue;
      const path = prefix[t + k + 1]! - prefix[t - k + 1]!;
      if (path > o.maxPath * sp) continue;
      let jump = 0;
      for (let j = t - k + 1; j <= t + k; j++) jump = Math.max(jump, sig.cut[j]!);
      if (jump > 0.6 * sp) continue;
      const score = (sp / o.minSpread) * (1 - residual[t]! / (o.maxResidual * sp) / 2);
      if (!best[t] || score > best[t]!.score) best[t] = { t, scale: k, score };
    }
  });
  // Runs of middle frames are one transition each; a gap shorter than the windows' half-width around it is
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
    if (last && t - last.t > Math.max(2, Math.min(last.scale, c.scale))) flush();
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

/** One run of middle frames: the boundary at its centre (where the blend is half-way), confidence from its best. */
function transitionOf(run: Candidate[]): Boundary {
  const first = run[0]!.t;
  const last = run[run.length - 1]!.t;
  const top = run.reduce((a, b) => (b.score > a.score ? b : a));
  const frame = Math.round((first + last) / 2);
  return {
    frame,
    type: 'gradual',
    kind: 'dissolve',
    span: [first, last + 1],
    confidence: confidenceOf(top.score),
  };
}

// Scoring detected boundaries against ground truth: one-to-one matching within tolerances, then precision,
// recall and F1 for hard cuts and for gradual transitions separately.

export interface TruthBoundary {
  type: 'hard' | 'gradual';
  /** The first frame of the next shot. */
  boundary: number;
  /** Gradual: the transition's frames [first, end) (a cut: [boundary, boundary]). */
  span: [number, number];
}

export interface DetectedBoundary {
  type: 'hard' | 'gradual';
  frame: number;
}

export interface Tolerance {
  /** A cut at frame c is found by a boundary within c ± hard. */
  hard: number;
  /** A gradual transition is found by a boundary inside its span (or on its boundary frame) ± gradual. */
  gradual: number;
}

export const TOLERANCE: Tolerance = { hard: 1, gradual: 2 };

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface Score extends Counts {
  precision: number;
  recall: number;
  f1: number;
}

export interface Evaluation {
  hard: Score;
  gradual: Score;
  all: Score;
  /** Matched pairs whose detected type equals the true type. */
  typeAgreement: number;
  matches: { truth: number; detected: number }[];
  missed: TruthBoundary[];
  spurious: DetectedBoundary[];
}

export function window(t: TruthBoundary, tol: Tolerance): [number, number] {
  if (t.type === 'hard') return [t.boundary - tol.hard, t.boundary + tol.hard];
  return [Math.min(t.span[0], t.boundary) - tol.gradual, Math.max(t.span[1] - 1, t.boundary) + tol.gradual];
}

export function score(c: Counts): Score {
  // No truth and no detection is perfect; an empty side otherwise scores 0.
  const precision = c.tp + c.fp === 0 ? (c.fn === 0 ? 1 : 0) : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? (c.fp === 0 ? 1 : 0) : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision, recall, f1 };
}

export const addCounts = (a: Counts, b: Counts): Counts => ({
  tp: a.tp + b.tp,
  fp: a.fp + b.fp,
  fn: a.fn + b.fn,
});

/**
 * Matches each true boundary to at most one detection inside its window, closest first. A match counts for the
 * true type (a dissolve found as a cut is found); an unmatched detection is a false positive of its own type.
 */
export function evaluate(
  truth: TruthBoundary[],
  detected: DetectedBoundary[],
  tol: Tolerance = TOLERANCE,
): Evaluation {
  const pairs: { ti: number; di: number; cost: number }[] = [];
  truth.forEach((t, ti) => {
    const [lo, hi] = window(t, tol);
    detected.forEach((d, di) => {
      if (d.frame >= lo && d.frame <= hi) pairs.push({ ti, di, cost: Math.abs(d.frame - t.boundary) });
    });
  });
  pairs.sort((a, b) => a.cost - b.cost || a.ti - b.ti || a.di - b.di);
  const truthUsed = new Set<number>();
  const detUsed = new Set<number>();
  const matches: Evaluation['matches'] = [];
  for (const p of pairs) {
    if (truthUsed.has(p.ti) || detUsed.has(p.di)) continue;
    truthUsed.add(p.ti);
    detUsed.add(p.di);
    matches.push({ truth: p.ti, detected: p.di });
  }
  const counts = (type: 'hard' | 'gradual'): Counts => ({
    tp: matches.filter((m) => truth[m.truth]!.type === type).length,
    fn: truth.filter((t, i) => t.type === type && !truthUsed.has(i)).length,
    fp: detected.filter((d, i) => d.type === type && !detUsed.has(i)).length,
  });
  const hard = counts('hard');
  const gradual = counts('gradual');
  return {
    hard: score(hard),
    gradual: score(gradual),
    all: score(addCounts(hard, gradual)),
    typeAgreement:
      matches.length === 0
        ? 1
        : matches.filter((m) => truth[m.truth]!.type === detected[m.detected]!.type).length / matches.length,
    matches,
    missed: truth.filter((_, i) => !truthUsed.has(i)),
    spurious: detected.filter((_, i) => !detUsed.has(i)),
  };
}

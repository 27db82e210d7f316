// Scoring match-cutting outputs against the corpus ground truth (bench/corpus/timeline.ts GroundTruth): pure
// functions, no I/O. Three parts:
//  1. alignShots: detected shots (the `shots` feature, numbered in detection order) → the truth shots they
//     stand for (frame-range IoU ≥ 0.5, one to one), so that everything else can be scored in truth numbering;
//  2. dedupScores: near-duplicate grouping (`shot-dedup`), pairwise precision / recall / F1 over the pairs of
//     shots placed in one group;
//  3. averagePrecision: a ranked list of candidate pairs (`matchcut-pairs:<flavor>`) against the labelled pairs,
//     standard non-interpolated AP, with duplicates left out of the ranking; flavorAveragePrecision picks the
//     label of a flavor (frame ↔ 'composition-match', motion ↔ 'motion-match').
// docs/matchcut-benchmarks.md explains the choices.
import { type Counts, type Score, score } from '../shots/evaluate.ts';

/** Shot ranges [start, end) in frames: the seed's SB format (shot index → range) or a plain array. */
export type ShotRanges =
  | Readonly<Record<string, readonly [number, number]>>
  | readonly (readonly [number, number])[];

/** An unordered pair of shots. */
export interface ShotPair {
  shot1: number;
  shot2: number;
}

/** The key of an unordered pair: the same for (a, b) and (b, a). */
export function pairKey(a: number, b: number): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** The ranges in index order; an SB record must be numbered 0 … n − 1. */
export function shotRanges(sb: ShotRanges): [number, number][] {
  if (Array.isArray(sb)) return sb.map(([s, e]) => [s, e]);
  const record = sb as Readonly<Record<string, readonly [number, number]>>;
  const n = Object.keys(record).length;
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const r = record[String(i)];
    if (!r) throw new Error(`shot ranges: shot ${i} of ${n} is missing (shots are numbered 0 … n − 1)`);
    out.push([r[0], r[1]]);
  }
  return out;
}

/** Intersection over union of two frame ranges [start, end); 0 when they do not overlap. */
export function rangeIoU(a: readonly [number, number], b: readonly [number, number]): number {
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  const union = a[1] - a[0] + (b[1] - b[0]) - inter;
  return union > 0 ? inter / union : 0;
}

export const ALIGN_MIN_IOU = 0.5;

export interface ShotAlignment {
  /** toTruth[d]: the truth shot detected shot d stands for, or null. */
  toTruth: (number | null)[];
  /** toDetected[t]: the detected shot that stands for truth shot t, or null. */
  toDetected: (number | null)[];
  /** iou[d]: the IoU of detected shot d with its truth shot (0 when unmatched). */
  iou: number[];
}

/**
 * Maps each detected shot to the truth shot it overlaps most, when their frame ranges have IoU ≥ `minIoU`
 * (0.5). One to one: pairs are taken best IoU first (then earliest truth shot, then earliest detected shot),
 * so the only case that needs the rule — a truth shot split exactly in two halves, IoU 0.5 each — keeps the
 * first half. A detected shot spanning several truth shots matches at most one of them, one that fills at least
 * half of it; a truth shot detected as several pieces is matched by at most one piece, at least half of it.
 */
export function alignShots(
  truthSB: ShotRanges,
  detectedSB: ShotRanges,
  minIoU = ALIGN_MIN_IOU,
): ShotAlignment {
  const truth = shotRanges(truthSB);
  const detected = shotRanges(detectedSB);
  const candidates: { t: number; d: number; iou: number }[] = [];
  // Hundreds to a few thousand shots a title: the plain double loop, cut short once truth starts pass the end.
  const byStart = truth.map((r, t) => ({ r, t })).sort((x, y) => x.r[0] - y.r[0] || x.t - y.t);
  for (const [d, dr] of detected.entries()) {
    for (const { r, t } of byStart) {
      if (r[0] >= dr[1]) break;
      const iou = rangeIoU(r, dr);
      if (iou >= minIoU) candidates.push({ t, d, iou });
    }
  }
  candidates.sort((a, b) => b.iou - a.iou || a.t - b.t || a.d - b.d);
  const toTruth: (number | null)[] = detected.map(() => null);
  const toDetected: (number | null)[] = truth.map(() => null);
  const iou = detected.map(() => 0);
  for (const c of candidates) {
    if (toTruth[c.d] !== null || toDetected[c.t] !== null) continue;
    toTruth[c.d] = c.t;
    toDetected[c.t] = c.d;
    iou[c.d] = c.iou;
  }
  return { toTruth, toDetected, iou };
}

/**
 * The id a detected shot has in truth numbering: its truth shot, or −(d + 1) when it has none (an id no truth
 * shot has, so a pair that involves it is never a true pair).
 */
export function truthId(alignment: Pick<ShotAlignment, 'toTruth'>, detected: number): number {
  const t = alignment.toTruth[detected];
  if (t === undefined) {
    throw new Error(`detected shot ${detected} is not in the alignment (${alignment.toTruth.length} shots)`);
  }
  return t ?? -(detected + 1);
}

/** Groups of detected shots renumbered as truth shots (truthId). */
export function groupsToTruth(
  groups: readonly (readonly number[])[],
  alignment: Pick<ShotAlignment, 'toTruth'>,
): number[][] {
  return groups.map((g) => g.map((d) => truthId(alignment, d)));
}

/** Ranked pairs of detected shots renumbered as truth shots (truthId), order and other fields kept. */
export function pairsToTruth<P extends ShotPair>(
  pairs: readonly P[],
  alignment: Pick<ShotAlignment, 'toTruth'>,
): P[] {
  return pairs.map((p) => ({ ...p, shot1: truthId(alignment, p.shot1), shot2: truthId(alignment, p.shot2) }));
}

/**
 * Groups as sets: a shot listed twice in a group counts once, and a shot listed in two groups joins them (union
 * find). Each group sorted, groups ordered by their first shot; singletons kept.
 */
export function mergeGroups(groups: readonly (readonly number[])[]): number[][] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let y = x;
    while (y !== r) {
      const next = parent.get(y)!;
      parent.set(y, r);
      y = next;
    }
    return r;
  };
  for (const g of groups) {
    for (const s of g) if (!parent.has(s)) parent.set(s, s);
    for (let i = 1; i < g.length; i++) {
      const [a, b] = [find(g[0]!), find(g[i]!)];
      if (a !== b) parent.set(b, a);
    }
  }
  const members = new Map<number, number[]>();
  for (const s of parent.keys()) {
    const r = find(s);
    members.set(r, [...(members.get(r) ?? []), s]);
  }
  return [...members.values()].map((m) => m.sort((x, y) => x - y)).sort((x, y) => x[0]! - y[0]!);
}

/** Every unordered pair of shots that share a group (mergeGroups first). */
export function groupPairs(groups: readonly (readonly number[])[]): Set<string> {
  const pairs = new Set<string>();
  for (const m of mergeGroups(groups)) {
    for (let i = 0; i < m.length; i++)
      for (let j = i + 1; j < m.length; j++) pairs.add(pairKey(m[i]!, m[j]!));
  }
  return pairs;
}

export interface DedupScores extends Score {
  /** True pairs (shots in one true group), after the candidate filter. */
  truePairs: number;
  /** Predicted pairs (shots in one predicted group), after the candidate filter. */
  predictedPairs: number;
  /** True groups (restricted to the candidates, 2 shots or more) that a predicted group equals exactly. */
  groupsExact: number;
  groupsTrue: number;
}

/**
 * Pairwise precision / recall / F1 of a duplicate grouping: a true positive is an unordered pair of shots that
 * share a group in both the truth and the prediction; a false positive shares only a predicted group, a false
 * negative only a true group. Singletons carry no pairs, so listing them or not changes nothing. Both sides in
 * the same numbering (truth shot indices; groupsToTruth converts detected shots).
 *
 * `candidateShots` (truth shot indices) restricts the scoring to pairs of those shots, on both sides: e.g. the
 * content shots, or the truth shots the detector found, to score the grouping apart from shot detection. A
 * detected shot without a truth shot (negative id) is never filtered out: pairing it is always a false positive.
 *
 * Empty cases follow lib/shots/evaluate.ts score(): nothing true and nothing predicted scores 1 everywhere;
 * predictions with no true pair score precision 0 and recall 0 (recall is 0/0 → 0 when anything was predicted).
 */
export function dedupScores(
  truthGroups: readonly (readonly number[])[],
  predictedGroups: readonly (readonly number[])[],
  candidateShots?: Iterable<number>,
): DedupScores {
  const keep = candidateShots ? new Set(candidateShots) : undefined;
  const inScope = (s: number) => !keep || s < 0 || keep.has(s);
  // Groups are merged first, then restricted: leaving a shot out drops its pairs, never splits a group.
  const restrict = (groups: readonly (readonly number[])[]) =>
    mergeGroups(groups)
      .map((g) => g.filter(inScope))
      .filter((g) => g.length > 1);
  const truth = restrict(truthGroups);
  const predicted = restrict(predictedGroups);
  const t = groupPairs(truth);
  const p = groupPairs(predicted);
  let tp = 0;
  for (const k of p) if (t.has(k)) tp++;
  const counts: Counts = { tp, fp: p.size - tp, fn: t.size - tp };
  const predictedSet = new Set(predicted.map((g) => g.join(',')));
  return {
    ...score(counts),
    truePairs: t.size,
    predictedPairs: p.size,
    groupsExact: truth.filter((g) => predictedSet.has(g.join(','))).length,
    groupsTrue: truth.length,
  };
}

export interface RankedPair extends ShotPair {
  /** When present, equal scores are ties (see AveragePrecisionOptions.ties). */
  score?: number;
}

export interface AveragePrecisionOptions {
  /** Pairs neither positive nor negative: left out of the ranking and of the positives (e.g. duplicates). */
  ignore?: Iterable<string> | readonly ShotPair[];
  /**
   * Score only the first k entries of the ranking (counted after ignored pairs, self pairs and repeats are left
   * out): AP@k, still divided by every positive. A tie that straddles the cut counts as a random draw of it.
   */
  k?: number;
  /**
   * 'average' (default): entries with equal `score` are a tie, and AP is the expectation over every order of
   * each tie (McSherry & Najork 2008), so the order a ranker happens to list ties in neither helps nor hurts.
   * 'as-given': the list order decides. Entries without a score are never tied.
   */
  ties?: 'average' | 'as-given';
}

export interface RankingScores {
  /** Non-interpolated average precision: Σ precision@rank over the positives found / number of positives; null
   * when there are no positives (undefined, not 0 or 1). */
  ap: number | null;
  /** Positives (after ignored pairs are removed). */
  positives: number;
  /** Entries ranked and scored: after ignored pairs, self pairs and repeats of a pair are left out, and the k cut. */
  ranked: number;
  /** Positives among them (an expectation, possibly fractional, when a tie straddles the k cut). */
  found: number;
  /** found / ranked (1 when nothing is ranked). */
  precision: number;
  /** found / positives (null when there are no positives). */
  recall: number | null;
  /** Entries left out: ignored pairs, self pairs (shot1 = shot2) and repeats of a pair already ranked. */
  skipped: { ignored: number; self: number; repeated: number };
}

const keysOf = (pairs: Iterable<string> | readonly ShotPair[] | undefined): Set<string> => {
  const out = new Set<string>();
  if (!pairs) return out;
  for (const p of pairs as Iterable<string | ShotPair>)
    out.add(typeof p === 'string' ? p : pairKey(p.shot1, p.shot2));
  return out;
};

/**
 * Standard non-interpolated average precision of a ranking of unordered pairs (best first) against a set of
 * positive pairs: AP = (1 / |positives|) · Σ over ranks r holding a positive of precision@r; positives never
 * ranked add 0. Pair keys come from pairKey(); `positives` may also be a list of pairs. Ignored pairs (options)
 * count neither way: they are removed from the ranking before ranks are counted and from the positives.
 */
export function averagePrecision(
  ranked: readonly RankedPair[],
  positives: Iterable<string> | readonly ShotPair[],
  opts: AveragePrecisionOptions = {},
): RankingScores {
  const ignore = keysOf(opts.ignore);
  const pos = keysOf(positives);
  for (const k of ignore) pos.delete(k);
  const skipped = { ignored: 0, self: 0, repeated: 0 };
  const seen = new Set<string>();
  const list: { relevant: boolean; score: number | undefined }[] = [];
  const limit = opts.k ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 0)) throw new Error(`average precision: k must be ≥ 0, got ${opts.k}`);
  for (const p of ranked) {
    if (p.shot1 === p.shot2) {
      skipped.self++;
      continue;
    }
    const key = pairKey(p.shot1, p.shot2);
    if (ignore.has(key)) {
      skipped.ignored++;
      continue;
    }
    if (seen.has(key)) {
      skipped.repeated++;
      continue;
    }
    seen.add(key);
    list.push({ relevant: pos.has(key), score: p.score });
  }
  const ties = opts.ties ?? 'average';
  let sum = 0;
  let before = 0; // entries ranked before the current tie
  let found = 0; // positives among them (expected, when a tie straddles the k cut)
  for (let i = 0; i < list.length && before < limit; ) {
    let j = i + 1;
    const s = list[i]!.score;
    if (ties === 'average' && s !== undefined) while (j < list.length && list[j]!.score === s) j++;
    const n = j - i;
    // The first m positions of the tie make the cut (all of them unless k falls inside it).
    const m = Math.min(n, limit - before);
    let r = 0;
    for (let x = i; x < j; x++) if (list[x]!.relevant) r++;
    if (r > 0) {
      // Each position q (1-based in the tie) holds a positive with probability r/n; given that, the positives
      // ahead of it inside the tie are (q − 1)(r − 1)/(n − 1) on average.
      for (let q = 1; q <= m; q++) {
        const ahead = n > 1 ? ((q - 1) * (r - 1)) / (n - 1) : 0;
        sum += (r / n) * ((found + ahead + 1) / (before + q));
      }
    }
    before += m;
    found += (r * m) / n;
    i = j;
  }
  return {
    ap: pos.size ? sum / pos.size : null,
    positives: pos.size,
    ranked: before,
    found,
    precision: before ? found / before : 1,
    recall: pos.size ? found / pos.size : null,
    skipped,
  };
}

/** The match-cut flavors and the truth label each is scored against. */
export const FLAVOR_LABEL = {
  frame: 'composition-match',
  motion: 'motion-match',
} as const;

export type Flavor = keyof typeof FLAVOR_LABEL;

/** What flavorAveragePrecision reads of a GroundTruth (bench/corpus/timeline.ts). */
export interface PairTruth {
  pairs: readonly (ShotPair & { label: string })[];
  duplicateGroups: readonly (readonly number[])[];
}

export interface FlavorOptions extends Omit<AveragePrecisionOptions, 'ignore'> {
  /** The ranking is of detected shots: renumber it through this alignment first (pairsToTruth). */
  alignment?: Pick<ShotAlignment, 'toTruth'>;
}

/**
 * AP of one flavor's ranked pairs (`matchcut-pairs:<flavor>` value's `pairs`, best first) against the truth
 * pairs with that flavor's label. Pairs of duplicates (two shots of one duplicate group: a repeat or a
 * re-encode of the other) are ignored: they are trivially similar and the truth labels them neither way, so
 * they must neither reward nor punish a ranker (shot-dedup is scored separately by dedupScores). Everything
 * else a ranker returns — the other flavor's pairs, blank shots, detected shots with no truth shot — is a
 * negative.
 */
export function flavorAveragePrecision(
  truth: PairTruth,
  flavor: Flavor,
  ranked: readonly RankedPair[],
  opts: FlavorOptions = {},
): RankingScores & { flavor: Flavor; label: string } {
  const label = FLAVOR_LABEL[flavor];
  if (!label)
    throw new Error(`unknown match-cut flavor "${flavor}" (one of ${Object.keys(FLAVOR_LABEL).join(', ')})`);
  const { alignment, ...rest } = opts;
  const list = alignment ? pairsToTruth(ranked, alignment) : ranked;
  const positives = truth.pairs.filter((p) => p.label === label);
  const scores = averagePrecision(list, positives, { ...rest, ignore: groupPairs(truth.duplicateGroups) });
  return { flavor, label, ...scores };
}

// Match-cut scoring (lib/matchcut/metrics.ts) on hand-computed cases: shot alignment, pairwise dedup scores and
// average precision, with the empty, tied and no-positive cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alignShots,
  averagePrecision,
  dedupScores,
  FLAVOR_LABEL,
  flavorAveragePrecision,
  groupPairs,
  groupsToTruth,
  mergeGroups,
  type PairTruth,
  pairKey,
  pairsToTruth,
  type RankedPair,
  rangeIoU,
  shotRanges,
} from '../../lib/matchcut/metrics.ts';
import { seededRandom } from '../../lib/matchcut/random.ts';

const close = (actual: number | null, expected: number, msg?: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${msg ?? ''} ${actual} ≠ ${expected}`);

const pair = (shot1: number, shot2: number, score?: number): RankedPair =>
  score === undefined ? { shot1, shot2 } : { shot1, shot2, score };

describe('shot alignment', () => {
  it('IoU of frame ranges', () => {
    close(rangeIoU([0, 100], [0, 100]), 1);
    close(rangeIoU([0, 100], [50, 150]), 50 / 150);
    close(rangeIoU([0, 100], [100, 200]), 0);
    close(rangeIoU([0, 100], [20, 30]), 0.1);
    close(rangeIoU([5, 5], [5, 5]), 0);
  });

  it('reads SB records in index order and refuses gaps', () => {
    assert.deepEqual(shotRanges({ '1': [10, 20], '0': [0, 10] }), [
      [0, 10],
      [10, 20],
    ]);
    assert.deepEqual(shotRanges([[0, 4]]), [[0, 4]]);
    assert.deepEqual(shotRanges({}), []);
    assert.throws(() => shotRanges({ '0': [0, 10], '2': [10, 20] }), /shot 1 of 2 is missing/);
  });

  it('maps each detected shot to the truth shot it overlaps with IoU ≥ 0.5', () => {
    const truth = { '0': [0, 100], '1': [100, 200], '2': [200, 300] } as const;
    const a = alignShots(truth, [
      [0, 98],
      [98, 250],
      [250, 300],
    ]);
    // d1: 100 of 152 frames (0.658) with t1; d2: 50 of 100 (exactly 0.5) with t2.
    assert.deepEqual(a.toTruth, [0, 1, 2]);
    assert.deepEqual(a.toDetected, [0, 1, 2]);
    close(a.iou[0]!, 0.98);
    close(a.iou[1]!, 100 / 152);
    close(a.iou[2]!, 0.5);
  });

  it('is one to one: a shot split in exact halves keeps the first half, a merged shot matches one', () => {
    const split = alignShots(
      [[0, 100]],
      [
        [0, 50],
        [50, 100],
      ],
    );
    assert.deepEqual(split.toTruth, [0, null]);
    assert.deepEqual(split.toDetected, [0]);
    const merged = alignShots(
      [
        [0, 60],
        [60, 200],
      ],
      [[0, 200]],
    );
    // 140/200 = 0.7 with the second truth shot, 60/200 with the first.
    assert.deepEqual(merged.toTruth, [1]);
    assert.deepEqual(merged.toDetected, [null, 0]);
    const missed = alignShots(
      [
        [0, 40],
        [40, 100],
      ],
      [
        [0, 30],
        [30, 100],
      ],
    );
    // d0: 30/40 = 0.75 with t0; d1: 60/70 with t1.
    assert.deepEqual(missed.toTruth, [0, 1]);
    const none = alignShots([[0, 100]], [[0, 40]]);
    assert.deepEqual(none.toTruth, [null]);
    assert.deepEqual(none.iou, [0]);
  });

  it('handles empty sides', () => {
    assert.deepEqual(alignShots({}, []), { toTruth: [], toDetected: [], iou: [] });
    assert.deepEqual(alignShots([[0, 10]], []).toDetected, [null]);
    assert.deepEqual(alignShots([], [[0, 10]]).toTruth, [null]);
  });

  it('renumbers groups and pairs; a detected shot without truth shot gets an id no truth shot has', () => {
    const alignment = { toTruth: [2, null, 0] };
    assert.deepEqual(groupsToTruth([[0, 1, 2]], alignment), [[2, -2, 0]]);
    assert.deepEqual(pairsToTruth([{ shot1: 1, shot2: 2, score: 0.5 }], alignment), [
      { shot1: -2, shot2: 0, score: 0.5 },
    ]);
    assert.throws(() => groupsToTruth([[3]], alignment), /not in the alignment/);
  });
});

describe('dedup scores (pairwise)', () => {
  it('pairs of a grouping; overlapping groups merge, repeats and singletons add nothing', () => {
    assert.deepEqual([...groupPairs([[3, 1, 2]])].sort(), ['1:2', '1:3', '2:3']);
    assert.deepEqual(mergeGroups([[5, 1], [1, 7], [9], [2, 2]]), [[1, 5, 7], [2], [9]]);
    assert.equal(groupPairs([[4], [2, 2], []]).size, 0);
    assert.equal(pairKey(7, 3), pairKey(3, 7));
  });

  it('hand-computed: one of three true pairs found, one false', () => {
    const s = dedupScores(
      [[0, 3, 5]],
      [
        [0, 3],
        [5, 7],
      ],
    );
    // truth {0:3, 0:5, 3:5}; predicted {0:3, 5:7}.
    assert.deepEqual([s.tp, s.fp, s.fn], [1, 1, 2]);
    close(s.precision, 0.5);
    close(s.recall, 1 / 3);
    close(s.f1, 0.4);
    assert.deepEqual([s.truePairs, s.predictedPairs, s.groupsExact, s.groupsTrue], [3, 2, 0, 1]);
  });

  it('perfect grouping, in any order and with singletons', () => {
    const s = dedupScores(
      [
        [1, 4],
        [2, 6, 9],
      ],
      [[9, 2, 6], [0], [4, 1]],
    );
    assert.deepEqual([s.tp, s.fp, s.fn, s.precision, s.recall, s.f1], [4, 0, 0, 1, 1, 1]);
    assert.deepEqual([s.groupsExact, s.groupsTrue], [2, 2]);
  });

  it('empty cases', () => {
    const none = dedupScores([], []);
    assert.deepEqual([none.precision, none.recall, none.f1], [1, 1, 1]);
    const noTruth = dedupScores([], [[1, 2]]);
    assert.deepEqual(
      [noTruth.tp, noTruth.fp, noTruth.fn, noTruth.precision, noTruth.recall],
      [0, 1, 0, 0, 0],
    );
    const noPrediction = dedupScores([[1, 2]], [[1], [2]]);
    assert.deepEqual(
      [noPrediction.fn, noPrediction.precision, noPrediction.recall, noPrediction.f1],
      [1, 0, 0, 0],
    );
  });

  it('candidate shots restrict both sides; unmatched detected shots always count', () => {
    const s = dedupScores([[0, 3, 5]], [[0, 3, 5, 8]], [0, 3]);
    assert.deepEqual([s.tp, s.fp, s.fn, s.groupsExact, s.groupsTrue], [1, 0, 0, 1, 1]);
    const u = dedupScores([[0, 3]], [[0, 3, -2]], [0, 3]);
    assert.deepEqual([u.tp, u.fp, u.fn], [1, 2, 0]);
    // Restricting never splits a group: 1 and 3 stay together through the left-out 2.
    const r = dedupScores(
      [
        [1, 2],
        [2, 3],
      ],
      [[1, 3]],
      [1, 3],
    );
    assert.deepEqual([r.tp, r.fp, r.fn], [1, 0, 0]);
  });

  it('scores detected shots through the alignment', () => {
    // Truth shots 0 and 2 are duplicates; detection split truth shot 1 in two (d1, d2) and found the rest.
    const truthSB = { '0': [0, 50], '1': [50, 150], '2': [150, 200] } as const;
    const detected: [number, number][] = [
      [0, 50],
      [50, 120],
      [120, 150],
      [150, 200],
    ];
    const alignment = alignShots(truthSB, detected);
    assert.deepEqual(alignment.toTruth, [0, 1, null, 2]);
    const s = dedupScores(
      [[0, 2]],
      groupsToTruth(
        [
          [0, 3],
          [1, 2],
        ],
        alignment,
      ),
    );
    assert.deepEqual([s.tp, s.fp, s.fn], [1, 1, 0]);
  });
});

describe('average precision', () => {
  it('hand-computed rankings', () => {
    // P N P over 2 positives: (1/1 + 2/3) / 2.
    close(averagePrecision([pair(0, 1), pair(0, 2), pair(1, 2)], ['0:1', '1:2']).ap, (1 + 2 / 3) / 2);
    // N P N P over 3 positives (one never ranked): (1/2 + 2/4) / 3.
    const r = averagePrecision(
      [pair(5, 6), pair(1, 0), pair(7, 8), pair(3, 2)],
      [pair(0, 1), pair(2, 3), pair(4, 5)],
    );
    close(r.ap, 1 / 3);
    assert.deepEqual([r.positives, r.ranked, r.found], [3, 4, 2]);
    close(r.precision, 0.5);
    close(r.recall, 2 / 3);
    // Every positive first: 1.
    close(averagePrecision([pair(2, 1), pair(1, 3), pair(0, 9)], ['1:2', '1:3']).ap, 1);
  });

  it('pairs are unordered, in the ranking and in the positives', () => {
    close(averagePrecision([pair(9, 4)], [pair(4, 9)]).ap, 1);
    close(averagePrecision([pair(4, 9)], [pair(9, 4)]).ap, 1);
    close(averagePrecision([pair(4, 9)], [pairKey(9, 4)]).ap, 1);
  });

  it('no positives: AP and recall undefined (null); empty ranking: AP 0', () => {
    const none = averagePrecision([pair(0, 1)], []);
    assert.equal(none.ap, null);
    assert.equal(none.recall, null);
    assert.equal(none.precision, 0);
    const both = averagePrecision([], []);
    assert.deepEqual([both.ap, both.recall, both.precision, both.ranked], [null, null, 1, 0]);
    const empty = averagePrecision([], ['0:1']);
    assert.deepEqual([empty.ap, empty.recall, empty.found], [0, 0, 0]);
  });

  it('ignored pairs leave the ranking and the positives; self pairs and repeats are skipped', () => {
    // D P N P with D ignored ranks as P N P.
    const r = averagePrecision([pair(0, 5), pair(0, 1), pair(3, 4), pair(1, 2)], ['0:1', '1:2'], {
      ignore: [pair(5, 0)],
    });
    close(r.ap, (1 + 2 / 3) / 2);
    assert.deepEqual(r.skipped, { ignored: 1, self: 0, repeated: 0 });
    // An ignored positive is no longer a positive.
    const s = averagePrecision([pair(3, 4), pair(0, 1)], ['0:1', '3:4'], { ignore: ['3:4'] });
    close(s.ap, 1);
    assert.equal(s.positives, 1);
    const t = averagePrecision([pair(2, 2), pair(0, 1), pair(1, 0), pair(0, 3)], ['0:1', '0:3']);
    close(t.ap, 1);
    assert.deepEqual(t.skipped, { ignored: 0, self: 1, repeated: 1 });
    assert.equal(t.ranked, 2);
  });

  it('AP@k: only the first k ranked entries count, over all positives', () => {
    const ranked = [pair(0, 1), pair(5, 6), pair(1, 2)];
    close(averagePrecision(ranked, ['0:1', '1:2'], { k: 2 }).ap, 0.5);
    close(averagePrecision(ranked, ['0:1', '1:2'], { k: 0 }).ap, 0);
    close(averagePrecision(ranked, ['0:1', '1:2'], { k: 10 }).ap, (1 + 2 / 3) / 2);
  });

  it('ties: averaged over their orders by default, as listed on request', () => {
    const tied = [pair(0, 1, 0.9), pair(2, 3, 0.9)];
    // The positive is first or second with equal chance: (1 + 1/2) / 2.
    close(averagePrecision(tied, ['2:3']).ap, 0.75);
    close(averagePrecision(tied, ['0:1']).ap, 0.75);
    close(averagePrecision(tied, ['2:3'], { ties: 'as-given' }).ap, 0.5);
    close(averagePrecision(tied, ['0:1'], { ties: 'as-given' }).ap, 1);
    // Three tied, two positive: orders give AP sums 2, 1 + 2/3, 1/2 + 2/3; their mean over 2 positives.
    const three = [pair(0, 1, 0.5), pair(0, 2, 0.5), pair(0, 3, 0.5)];
    close(averagePrecision(three, ['0:1', '0:3']).ap, (2 + 5 / 3 + 7 / 6) / 3 / 2);
    // No scores: never tied.
    close(averagePrecision([pair(0, 1), pair(2, 3)], ['2:3']).ap, 0.5);
    // A tie straddling the k cut is a random draw: the positive makes the top 1 half the time.
    const cut = averagePrecision(tied, ['2:3'], { k: 1 });
    close(cut.ap, 0.5);
    close(cut.found, 0.5);
    assert.equal(cut.ranked, 1);
    assert.throws(() => averagePrecision(tied, ['2:3'], { k: -1 }), /k must be ≥ 0/);
    // All tied and all positive: 1 whatever the order.
    close(averagePrecision([pair(0, 1, 1), pair(0, 2, 1)], ['0:1', '0:2']).ap, 1);
  });

  it('tie-averaged AP (and AP@k) equals the mean over every order of the ties (brute force)', () => {
    const rand = seededRandom(7);
    const permutations = <T>(xs: T[]): T[][] =>
      xs.length <= 1
        ? [xs]
        : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (let trial = 0; trial < 30; trial++) {
      const n = 2 + Math.floor(rand() * 6);
      const scores = Array.from({ length: n }, () => Math.floor(rand() * 3)).sort((a, b) => b - a);
      const ranked = scores.map((s, i) => pair(i, 100 + i, s));
      const positives = ranked.filter(() => rand() < 0.5).map((p) => pairKey(p.shot1, p.shot2));
      positives.push('500:501'); // one never ranked
      // Every order that keeps the scores sorted: permute within each run of equal scores.
      let orders: RankedPair[][] = [[]];
      for (let i = 0; i < n; ) {
        let j = i;
        while (j < n && ranked[j]!.score === ranked[i]!.score) j++;
        const runs = permutations(ranked.slice(i, j));
        orders = orders.flatMap((o) => runs.map((p) => [...o, ...p]));
        i = j;
      }
      const k = trial % 2 ? Math.floor(rand() * (n + 2)) : undefined;
      const asGiven = orders.map((o) => averagePrecision(o, positives, { ties: 'as-given', k }));
      const mean = (f: (x: (typeof asGiven)[number]) => number) =>
        asGiven.reduce((s, x) => s + f(x), 0) / asGiven.length;
      const averaged = averagePrecision(ranked, positives, { k });
      close(
        averaged.ap,
        mean((x) => x.ap!),
        `trial ${trial} AP`,
      );
      close(
        averaged.found,
        mean((x) => x.found),
        `trial ${trial} found`,
      );
    }
  });
});

describe('flavor average precision', () => {
  // Shots 0 and 5 are duplicates; 0–2 and 0–4 share composition (so does 5–2: the truth labels it too), 1–3
  // share motion.
  const truth: PairTruth = {
    pairs: [
      { shot1: 0, shot2: 2, label: 'composition-match' },
      { shot1: 0, shot2: 4, label: 'composition-match' },
      { shot1: 2, shot2: 5, label: 'composition-match' },
      { shot1: 1, shot2: 3, label: 'motion-match' },
    ],
    duplicateGroups: [[0, 5]],
  };

  it('scores a flavor against its label, duplicates ignored, the other flavor negative', () => {
    assert.deepEqual(FLAVOR_LABEL, { frame: 'composition-match', motion: 'motion-match' });
    const ranked = [pair(0, 5, 1), pair(2, 0, 0.9), pair(1, 3, 0.8), pair(4, 0, 0.7), pair(5, 2, 0.6)];
    const frame = flavorAveragePrecision(truth, 'frame', ranked);
    // P N P P over 3 positives: (1 + 2/3 + 3/4) / 3.
    close(frame.ap, (1 + 2 / 3 + 3 / 4) / 3);
    assert.equal(frame.label, 'composition-match');
    assert.deepEqual(frame.skipped, { ignored: 1, self: 0, repeated: 0 });
    const motion = flavorAveragePrecision(truth, 'motion', ranked);
    // N P N N over 1 positive: 1/2.
    close(motion.ap, 0.5);
    assert.equal(motion.positives, 1);
  });

  it('renumbers detected shots through an alignment', () => {
    // Detected shots 0..3 stand for truth shots 2, 0, (none), 4.
    const alignment = { toTruth: [2, 0, null, 4] };
    const ranked = [pair(2, 3, 0.9), pair(1, 0, 0.8), pair(3, 1, 0.7)];
    // (none)–4 is a negative; 0–2 and 4–0 are positives: N P P over 3 → (1/2 + 2/3) / 3.
    close(flavorAveragePrecision(truth, 'frame', ranked, { alignment }).ap, (1 / 2 + 2 / 3) / 3);
  });

  it('a flavor without positives has no AP', () => {
    const r = flavorAveragePrecision({ pairs: [], duplicateGroups: [] }, 'motion', [pair(0, 1)]);
    assert.equal(r.ap, null);
    assert.throws(() => flavorAveragePrecision(truth, 'colour' as never, []), /unknown match-cut flavor/);
  });
});

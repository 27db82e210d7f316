// The ground truth's own rules: the corpus plan and timeline (pure, from a seed) and the matching that scores
// detections against them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BENCH_CONFIG, TEST_CONFIG } from '../../bench/corpus/config.ts';
import { PHOTOS } from '../../bench/corpus/photos.ts';
import { planTitle } from '../../bench/corpus/plan.ts';
import { buildTimeline } from '../../bench/corpus/timeline.ts';
import { evaluate, type TruthBoundary } from '../../lib/shots/evaluate.ts';

const photos = PHOTOS.map((p) => `/usr/share/backgrounds/${p}`);

describe('corpus ground truth', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = buildTimeline(planTitle(BENCH_CONFIG, 3, photos), 'x.mp4').truth;
    const b = buildTimeline(planTitle(BENCH_CONFIG, 3, photos), 'x.mp4').truth;
    const c = buildTimeline(planTitle({ ...BENCH_CONFIG, seed: 5 }, 3, photos), 'x.mp4').truth;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.SB, c.SB);
  });

  for (let i = 0; i < 6; i++) {
    it(`title ${i}: shots partition the frames, boundaries separate them, pieces add up`, () => {
      const { pieces, truth } = buildTimeline(planTitle(BENCH_CONFIG, i, photos), 'x.mp4');
      const ranges = Object.values(truth.SB);
      assert.equal(ranges[0]![0], 0);
      assert.equal(ranges[ranges.length - 1]![1], truth.frames);
      for (let k = 1; k < ranges.length; k++) assert.equal(ranges[k]![0], ranges[k - 1]![1]);
      assert.equal(truth.transitions.length, truth.shots.length - 1);
      truth.transitions.forEach((t, k) => {
        assert.equal(t.boundary, truth.shots[k + 1]!.start);
        assert.ok(t.span[0] <= t.boundary && t.boundary <= t.span[1], `${t.kind} boundary inside its span`);
        assert.equal(t.type === 'hard', t.span[0] === t.span[1]);
      });
      const total = pieces.reduce((n, p) => n + (p.kind === 'segment' ? p.to - p.from : p.frames), 0);
      assert.equal(total, truth.frames);
      // Shots are at least 0.6 s outside their transitions, so any sane minimum shot length keeps them.
      for (const s of truth.shots)
        assert.ok(s.end - s.start >= 12, `shot ${s.index} has ${s.end - s.start} frames`);
      for (const g of truth.duplicateGroups) {
        const ids = new Set(g.map((s) => truth.shots[s]!.content!.specId));
        assert.equal(ids.size, 1, 'a duplicate group shows one shot spec');
      }
      for (const p of truth.pairs) {
        const [a, b] = [truth.shots[p.shot1]!.content!, truth.shots[p.shot2]!.content!];
        if (p.label === 'composition-match') assert.equal(a.photo, b.photo);
        else assert.ok(a.photo !== b.photo && a.motion.class === b.motion.class);
      }
    });
  }

  it('the test title has every kind of transition, a repeat, a near-duplicate and a flash', () => {
    const { truth } = buildTimeline(planTitle(TEST_CONFIG, 0, photos), 'x.mp4');
    const kinds = new Set(truth.transitions.map((t) => t.kind));
    assert.deepEqual([...kinds].sort(), ['cut', 'dissolve', 'fade-in', 'fade-out', 'fade-through-black']);
    const origins = new Set(truth.shots.map((s) => s.content?.origin.kind));
    for (const o of ['repeat', 'near-duplicate', 'composition-partner', 'motion-partner'])
      assert.ok(origins.has(o as never), o);
    assert.equal(truth.flashes.length, 1);
  });
});

describe('boundary matching', () => {
  const truth: TruthBoundary[] = [
    { type: 'hard', boundary: 100, span: [100, 100] },
    { type: 'gradual', boundary: 210, span: [200, 220] },
    { type: 'gradual', boundary: 320, span: [300, 320] },
  ];

  it('a cut within ±1 frame, a gradual transition inside its span ±2, one to one', () => {
    const e = evaluate(truth, [
      { type: 'hard', frame: 101 },
      { type: 'gradual', frame: 198 },
      { type: 'gradual', frame: 215 },
      { type: 'hard', frame: 322 },
    ]);
    assert.deepEqual([e.hard.tp, e.hard.fp, e.hard.fn], [1, 0, 0]);
    // 198 and 215 both fall in [198, 221]: the closer one matches, the other is a false positive.
    assert.deepEqual([e.gradual.tp, e.gradual.fp, e.gradual.fn], [2, 1, 0]);
    assert.equal(e.spurious[0]!.frame, 198);
    assert.equal(e.typeAgreement, 2 / 3, 'the fade found as a cut still counts, as a gradual match');
  });

  it('misses outside the tolerance', () => {
    const e = evaluate(truth, [
      { type: 'hard', frame: 102 },
      { type: 'gradual', frame: 197 },
      { type: 'gradual', frame: 323 },
    ]);
    assert.deepEqual(
      [e.hard.tp, e.hard.fp, e.hard.fn, e.gradual.tp, e.gradual.fp, e.gradual.fn],
      [0, 1, 1, 0, 2, 2],
    );
    assert.equal(e.all.f1, 0);
  });

  it('nothing to find and nothing found is perfect', () => {
    assert.equal(evaluate([], []).all.f1, 1);
    assert.equal(evaluate([], [{ type: 'hard', frame: 5 }]).all.precision, 0);
  });
});

// The shot detector on synthetic frame sequences with exact truth: cuts, dissolves, fades, and the things that
// must never become a boundary (camera pans, zooms, shake, flashes, exposure changes, uniform pictures).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contextFrames, decideShots, ShotDetector } from '../../lib/shots/detector.ts';
import { shotParams } from '../../lib/shots/params.ts';
import { type SignalPart, stitchSignals } from '../../lib/shots/signals.ts';
import {
  black,
  brighten,
  dissolve,
  type FloatFrame,
  fadeIn,
  fadeOut,
  H,
  mix,
  scene,
  shot,
  toYuv,
  W,
} from '../support/corpus-frames.ts';

const FPS = 25;

function detect(frames: FloatFrame[], params = {}) {
  const d = new ShotDetector(FPS, shotParams.parse(params));
  frames.forEach((f, i) => {
    d.push(toYuv(f, 1.5, i));
  });
  return d.finish();
}

const frames = (r: ReturnType<typeof detect>) => r.boundaries.map((b) => b.frame);
const centre = { cx: 0.5, cy: 0.5, z: 1.6 };

describe('shot detector: hard cuts', () => {
  it('finds cuts between static and moving shots to the frame, and the shots they bound', () => {
    const seq = [
      ...shot(scene(1), 40, centre),
      ...shot(scene(2), 35, { cx: 0.35, cy: 0.5, z: 1.8 }, { cx: 0.62, cy: 0.5, z: 1.8 }),
      ...shot(scene(3), 50, { cx: 0.5, cy: 0.5, z: 1.2 }, { cx: 0.5, cy: 0.5, z: 1.9 }),
      ...shot(scene(4), 30, centre),
    ];
    const r = detect(seq);
    assert.deepEqual(frames(r), [40, 75, 125]);
    assert.ok(r.boundaries.every((b) => b.type === 'hard' && b.kind === 'cut' && b.confidence > 0.5));
    assert.deepEqual(
      r.shots.map((s) => [s.start, s.end]),
      [
        [0, 40],
        [40, 75],
        [75, 125],
        [125, 155],
      ],
    );
  });

  it('finds a cut between two framings of the same picture', () => {
    const s = scene(5);
    const seq = [...shot(s, 30, { cx: 0.3, cy: 0.4, z: 2 }), ...shot(s, 30, { cx: 0.7, cy: 0.6, z: 2 })];
    assert.deepEqual(frames(detect(seq)), [30]);
  });

  it('keeps shots at least the minimum length apart', () => {
    const seq = [...shot(scene(6), 30, centre), ...shot(scene(7), 4, centre), ...shot(scene(8), 30, centre)];
    assert.equal(detect(seq, { minShotSeconds: 0.4 }).boundaries.length, 1);
    assert.deepEqual(frames(detect(seq, { minShotSeconds: 0.1 })), [30, 34]);
  });
});

describe('shot detector: gradual transitions', () => {
  for (const n of [8, 16, 30, 48]) {
    it(`finds a ${n}-frame dissolve between moving shots, inside its span`, () => {
      const a = shot(scene(10 + n), 60, { cx: 0.4, cy: 0.5, z: 1.7 }, { cx: 0.6, cy: 0.5, z: 1.7 });
      const b = shot(scene(20 + n), 60, { cx: 0.5, cy: 0.45, z: 1.3 }, { cx: 0.5, cy: 0.55, z: 1.5 });
      const r = detect(dissolve(a, b, n));
      assert.equal(r.boundaries.length, 1, JSON.stringify(r.boundaries));
      const [d] = r.boundaries;
      assert.equal(d!.type, 'gradual');
      assert.equal(d!.kind, 'dissolve');
      assert.ok(d!.frame >= 60 - n - 2 && d!.frame <= 60 + 2, `boundary ${d!.frame} in [${60 - n}, 60)`);
    });
  }

  it('a fade to black, a black shot, a fade in: two fades and a blank shot', () => {
    const seq = [
      ...fadeOut(shot(scene(30), 50, centre), 15),
      ...black(30),
      ...fadeIn(shot(scene(31), 50, centre), 12),
    ];
    const r = detect(seq);
    // The last frames of a fade are nearly black and count as black: the boundary may come a frame or two early.
    assert.deepEqual(
      r.boundaries.map((b) => b.kind),
      ['fade-out', 'fade-in'],
    );
    assert.ok(Math.abs(r.boundaries[0]!.frame - 50) <= 2 && Math.abs(r.boundaries[1]!.frame - 80) <= 2);
    assert.deepEqual(
      r.shots.map((s) => s.blank),
      [false, true, false],
    );
  });

  it('a fade through black with a short hold: one transition in the black', () => {
    const seq = [
      ...fadeOut(shot(scene(32), 50, centre), 10),
      ...black(2),
      ...fadeIn(shot(scene(33), 50, centre), 10),
    ];
    const r = detect(seq);
    assert.equal(r.boundaries.length, 1, JSON.stringify(r.boundaries));
    assert.equal(r.boundaries[0]!.kind, 'fade-through-black');
    assert.ok(Math.abs(r.boundaries[0]!.frame - 51) <= 2, `boundary ${r.boundaries[0]!.frame} near 51`);
  });

  it('a cut to black and a cut back are cuts', () => {
    const seq = [...shot(scene(34), 40, centre), ...black(20), ...shot(scene(35), 40, centre)];
    assert.deepEqual(
      detect(seq).boundaries.map((b) => [b.kind, b.frame]),
      [
        ['cut', 40],
        ['cut', 60],
      ],
    );
  });
});

describe('shot detector: no false boundaries', () => {
  it('slow and fast pans, zooms in and out over one picture', () => {
    const s = scene(40);
    const seq = [
      ...shot(s, 75, { cx: 0.3, cy: 0.5, z: 1.6 }, { cx: 0.7, cy: 0.5, z: 1.6 }),
      ...shot(s, 25, { cx: 0.7, cy: 0.5, z: 1.6 }, { cx: 0.35, cy: 0.45, z: 1.6 }),
      ...shot(s, 60, { cx: 0.35, cy: 0.45, z: 1.6 }, { cx: 0.5, cy: 0.5, z: 3 }),
      ...shot(s, 30, { cx: 0.5, cy: 0.5, z: 3 }, { cx: 0.5, cy: 0.5, z: 1.1 }),
    ];
    assert.deepEqual(frames(detect(seq)), []);
  });

  it('camera shake', () => {
    const s = scene(41);
    const seq = Array.from(
      { length: 120 },
      (_, i) =>
        shot(s, 1, { cx: 0.5 + 0.02 * Math.sin(i * 2.1), cy: 0.5 + 0.02 * Math.cos(i * 1.7), z: 1.8 })[0]!,
    );
    assert.deepEqual(frames(detect(seq)), []);
  });

  it('flashes of one to three frames', () => {
    const base = shot(scene(42), 150, { cx: 0.4, cy: 0.5, z: 1.5 }, { cx: 0.6, cy: 0.5, z: 1.5 });
    const seq = base.map((f, i) =>
      (i >= 30 && i < 31) || (i >= 70 && i < 72) || (i >= 110 && i < 113) ? brighten(f, 90) : f,
    );
    assert.deepEqual(frames(detect(seq)), []);
  });

  it('an exposure change inside a shot', () => {
    const base = shot(scene(43), 100, centre);
    const seq = base.map((f, i) => brighten(f, i < 40 ? 0 : i < 60 ? ((i - 40) / 20) * 35 : 35));
    assert.deepEqual(frames(detect(seq)), []);
  });

  it('a uniform picture fading between black and white', () => {
    const white = { ...black(1)[0]!, y: new Float32Array(W * H).fill(235) };
    const seq = Array.from({ length: 120 }, (_, i) => mix(black(1)[0]!, white, 0.5 - 0.5 * Math.cos(i / 8)));
    assert.deepEqual(frames(detect(seq)), []);
  });
});

describe('shot detector: output and input', () => {
  it('is deterministic', () => {
    const seq = dissolve(shot(scene(50), 40, centre), shot(scene(51), 40, centre), 12);
    assert.deepEqual(detect(seq).boundaries, detect(seq).boundaries);
  });

  it('refuses frames of the wrong size and handles an empty stream', () => {
    const d = new ShotDetector(FPS, shotParams.parse({}));
    assert.throws(() => d.push(new Uint8Array(100)), /expected a 64×36 yuv420p frame/);
    assert.deepEqual(d.finish().shots, []);
    assert.throws(() => new ShotDetector(0, shotParams.parse({})), /frame rate must be > 0/);
  });
});

describe('shot detector: parts analysed apart and stitched', () => {
  it('gives the signals and shots of one pass, whatever the cut points (inside cuts, dissolves, fades)', () => {
    const a = shot(scene(21), 45, centre);
    const b = shot(scene(22), 60, { cx: 0.35, cy: 0.5, z: 1.8 }, { cx: 0.62, cy: 0.5, z: 1.8 });
    const c = shot(scene(23), 50, centre);
    const seq = [
      ...dissolve(a, b, 20),
      ...fadeOut(c, 12),
      ...black(8),
      ...fadeIn(shot(scene(24), 40, centre), 12),
    ];
    const yuv = seq.map((f, i) => toYuv(f, 1.5, i));
    const params = shotParams.parse({});
    const whole = new ShotDetector(FPS, params);
    for (const f of yuv) whole.push(f);
    const one = whole.finish();
    assert.ok(one.boundaries.length >= 3, 'the sequence has transitions to find');
    const context = contextFrames(FPS);
    for (const cuts of [[60], [33, 97, 130], [5, 140]]) {
      const bounds = [0, ...cuts, yuv.length];
      const parts: SignalPart[] = bounds.slice(1).map((to, k) => {
        const from = bounds[k]!;
        const first = Math.max(0, from - context);
        const d = new ShotDetector(FPS, params);
        for (const f of yuv.slice(first, Math.min(yuv.length, to + context))) d.push(f);
        return { signals: d.signals(), first, from, to };
      });
      const stitched = decideShots(stitchSignals(parts.reverse(), yuv.length), FPS, params);
      assert.deepEqual(stitched, one, `parts cut at ${cuts.join(', ')}`);
    }
  });
});

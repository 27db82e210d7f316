import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alignedSimilarity,
  coreFrames,
  dedupShots,
  signatureFrame,
  thumbnailVector,
} from '../../lib/matchcut/dedup.ts';
import { seededRandom } from '../../lib/matchcut/random.ts';

const W = 32;
const H = 16;

/** A smooth random scene seen through a window starting at column x0 (a pan moves x0). */
function scene(seed: number) {
  // A random texture, lightly smoothed: detail at every scale down to a pixel, like a photograph's.
  const r = seededRandom(seed);
  const TW = 256;
  const TH = 48;
  const raw = Float32Array.from({ length: TW * TH }, () => r() * 255);
  const tex = Float32Array.from({ length: TW * TH }, (_, i) => {
    const x = i % TW;
    const y = Math.floor(i / TW);
    let acc = 0;
    let n = 0;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(TH - 1, y + 1); yy++)
      for (let xx = Math.max(0, x - 1); xx <= Math.min(TW - 1, x + 1); xx++, n++) acc += raw[yy * TW + xx]!;
    return acc / n;
  });
  return (x0: number, noise = 0, y0 = 0, rng = seededRandom(seed + 1)) =>
    Uint8Array.from({ length: W * H }, (_, i) => {
      const g = tex[(Math.floor(i / W) + y0) * TW + (i % W) + x0]!;
      return Math.max(0, Math.min(255, Math.round(g + (rng() - 0.5) * noise)));
    });
}
const shot = (id: number, frames: Uint8Array[]) => ({
  shot: id,
  frames: frames.map((f) => signatureFrame(f, W)),
});
const pan = (view: ReturnType<typeof scene>, from: number, n: number, speed: number, noise = 0, y0 = 0) =>
  Array.from({ length: n }, (_, i) => view(from + i * speed, noise, y0));

describe('near-duplicate shots', () => {
  it('thumbnail detail is unit length, and zero for a flat picture', () => {
    const v = thumbnailVector(scene(1)(0), W);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    assert.ok(thumbnailVector(new Uint8Array(W * H).fill(40), W).every((x) => x === 0));
  });

  it('the core of a shot leaves out its ends', () => {
    assert.deepEqual(coreFrames(100, 200), [110, 190]);
    assert.deepEqual(coreFrames(5, 6), [5, 6]);
  });

  it('finds a fast pan cut at another point in time, and a noisy re-encode; not a re-framing', () => {
    const view = scene(2);
    const a = shot(0, pan(view, 0, 40, 3));
    assert.ok(
      alignedSimilarity(a, shot(1, pan(view, 21, 25, 3))) > 0.99,
      'the same pan, entered 7 frames later',
    );
    assert.ok(alignedSimilarity(a, shot(1, pan(view, 9, 30, 3, 6))) > 0.8, 're-encoded (noise)');
    assert.ok(
      alignedSimilarity(a, shot(1, pan(view, 0, 40, 3, 0, 1))) < 0.5,
      'the same move, framed 1 px lower',
    );
    assert.ok(alignedSimilarity(a, shot(1, pan(scene(3), 0, 40, 3))) < 0.3, 'another scene');
  });

  it('groups in shot order, keeps the earliest, and honours the candidate filter', () => {
    const x = scene(5);
    const y = scene(6);
    const shots = [
      shot(0, pan(x, 0, 12, 1)),
      shot(1, pan(y, 0, 12, 2)),
      shot(2, pan(x, 2, 10, 1)),
      shot(3, pan(scene(7), 0, 12, 1)),
      shot(4, pan(y, 0, 12, 2)),
      shot(5, pan(x, 0, 12, 1)),
    ];
    const all = dedupShots(shots, 0.5);
    assert.deepEqual(all.kept, [0, 1, 3]);
    assert.deepEqual(all.groups, [
      [0, 2, 5],
      [1, 4],
    ]);
    assert.deepEqual(all.duplicateOf, { '2': 0, '4': 1, '5': 0 });
    const filtered = dedupShots(shots, 0.5, (i, j) => !(i === 1 && j === 4));
    assert.deepEqual(filtered.groups, [[0, 2, 5]]);
  });
});

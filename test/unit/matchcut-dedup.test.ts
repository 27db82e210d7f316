import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignedSimilarity, dedupShots, signatureFrames, thumbnailVector } from '../../lib/matchcut/dedup.ts';
import { seededRandom } from '../../lib/matchcut/random.ts';

const W = 16;
const H = 9;

function noise(seed: number, n: number): Uint8Array[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => Uint8Array.from({ length: W * H }, () => Math.floor(r() * 256)));
}
const sig = (shot: number, frames: Uint8Array[]) => ({
  shot,
  frames: frames.map((f) => thumbnailVector(f, W)),
});

describe('near-duplicate shots', () => {
  it('thumbnail detail is unit length, and zero for a flat picture', () => {
    const v = thumbnailVector(noise(1, 1)[0]!, W);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    assert.ok(thumbnailVector(new Uint8Array(W * H).fill(40), W).every((x) => x === 0));
  });

  it('samples the core of a shot', () => {
    assert.deepEqual(signatureFrames(100, 200, 20), [110, 130, 150, 170]);
    assert.deepEqual(signatureFrames(5, 6, 3), [5]);
  });

  it('finds a repeat cut at another point in time, and a noisy re-encode', () => {
    const base = noise(2, 20);
    const r = seededRandom(3);
    const reencoded = base
      .slice(4, 16)
      .map((f) => f.map((v) => Math.max(0, Math.min(255, v + (r() - 0.5) * 30))));
    assert.ok(alignedSimilarity(sig(0, base), sig(1, base.slice(3, 18))) > 0.999, 'the same frames, offset');
    assert.ok(alignedSimilarity(sig(0, base), sig(1, reencoded)) > 0.9, 're-encoded');
    assert.ok(alignedSimilarity(sig(0, base), sig(1, noise(4, 20))) < 0.3, 'other frames');
  });

  it('groups in shot order, keeps the earliest, and honours the candidate filter', () => {
    const a = noise(5, 10);
    const b = noise(6, 10);
    const shots = [sig(0, a), sig(1, b), sig(2, a.slice(2)), sig(3, noise(7, 10)), sig(4, b), sig(5, a)];
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

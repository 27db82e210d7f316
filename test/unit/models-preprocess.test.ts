import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { picturesToTensor, resizeRgb } from '../../lib/models/preprocess.ts';

// Two 2×1 pictures: pixel 0 = (r,g,b) = (10,20,30), pixel 1 = (40,50,60); the second picture adds 100.
const f0 = Uint8Array.from([10, 20, 30, 40, 50, 60]);
const f1 = Uint8Array.from([110, 120, 130, 140, 150, 160]);
const plain = {
  scale: 1,
  mean: [0, 0, 0] as [number, number, number],
  std: [1, 1, 1] as [number, number, number],
};

describe('model pre-processing', () => {
  it('lays rgb24 out as NCHW: per picture, one plane per channel', () => {
    const t = picturesToTensor([f0, f1], 2, 1, { ...plain, layout: 'NCHW', colorOrder: 'rgb' });
    assert.deepEqual([...t], [10, 40, 20, 50, 30, 60, 110, 140, 120, 150, 130, 160]);
  });

  it('lays rgb24 out as NHWC and reorders channels for BGR models', () => {
    const t = picturesToTensor([f0], 2, 1, { ...plain, layout: 'NHWC', colorOrder: 'bgr' });
    assert.deepEqual([...t], [30, 20, 10, 60, 50, 40]);
    const c = picturesToTensor([f0], 2, 1, { ...plain, layout: 'NCHW', colorOrder: 'bgr' });
    assert.deepEqual([...c], [30, 60, 20, 50, 10, 40]);
  });

  it('applies scale first, then mean and std per model channel', () => {
    const norm = {
      layout: 'NCHW' as const,
      colorOrder: 'bgr' as const,
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406] as [number, number, number],
      std: [0.229, 0.224, 0.225] as [number, number, number],
    };
    const t = picturesToTensor([f0], 2, 1, norm);
    // Model channel 0 is blue (bytes 30, 60) with mean[0]/std[0].
    const expect = [
      (30 / 255 - 0.485) / 0.229,
      (60 / 255 - 0.485) / 0.229,
      (20 / 255 - 0.456) / 0.224,
      (50 / 255 - 0.456) / 0.224,
      (10 / 255 - 0.406) / 0.225,
      (40 / 255 - 0.406) / 0.225,
    ];
    for (const [i, v] of t.entries())
      assert.ok(Math.abs(v - expect[i]!) < 1e-5, `${i}: ${v} vs ${expect[i]}`);
  });

  it('refuses a frame of the wrong size and reuses a given buffer', () => {
    assert.throws(
      () => picturesToTensor([f0, f0.subarray(3)], 2, 1, { ...plain, layout: 'NCHW', colorOrder: 'rgb' }),
      /frame 1: 3 bytes, expected 6/,
    );
    const buf = new Float32Array(12).fill(-1);
    const t = picturesToTensor([f0], 2, 1, { ...plain, layout: 'NCHW', colorOrder: 'rgb' }, buf);
    assert.equal(t, buf);
    assert.deepEqual([...buf.subarray(6)], [-1, -1, -1, -1, -1, -1]);
  });

  it('resizes bilinearly with half-pixel centres', () => {
    // 2×1 → 4×1: samples at x = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
    const up = resizeRgb({ width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 200, 100, 40]) }, 4, 1);
    assert.deepEqual([...up.data], [0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40]);
    // 4×2 → 2×1: each output pixel is the mean of a 2×2 block.
    const src = Uint8Array.from([
      ...[0, 0, 0, 100, 100, 100, 10, 10, 10, 30, 30, 30],
      ...[100, 100, 100, 200, 200, 200, 50, 50, 50, 70, 70, 70],
    ]);
    const down = resizeRgb({ width: 4, height: 2, data: src }, 2, 1);
    assert.deepEqual([...down.data], [100, 100, 100, 40, 40, 40]);
    const same = { width: 4, height: 2, data: src };
    assert.equal(resizeRgb(same, 4, 2), same);
  });
});

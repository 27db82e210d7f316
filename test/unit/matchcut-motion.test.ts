import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cameraStep, type GrayFrame } from '../../lib/matchcut/camera-motion.ts';
import { isStatic, MOTION_DIM, motionDescriptor, shotMotion } from '../../lib/matchcut/motion-descriptor.ts';
import { seededRandom } from '../../lib/matchcut/random.ts';

const W = 96;
const H = 54;

/** A smooth random texture sampled through a window: centre (cx, cy) and scale s (content size multiplier). */
function scene(seed: number) {
  const rand = seededRandom(seed);
  const waves = Array.from({ length: 12 }, () => ({
    fx: 0.02 + rand() * 0.15,
    fy: 0.02 + rand() * 0.15,
    p: rand() * 6.28,
    a: 10 + rand() * 20,
  }));
  return (cx: number, cy: number, s = 1): GrayFrame => {
    const data = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const u = cx + (x - W / 2) / s;
        const v = cy + (y - H / 2) / s;
        let g = 128;
        for (const w of waves)
          g += w.a * Math.sin(w.fx * u + w.fy * v * 1.3 + w.p) * Math.cos(w.fy * u - w.p);
        data[y * W + x] = Math.max(0, Math.min(255, Math.round(g)));
      }
    }
    return { width: W, height: H, data };
  };
}

const dot = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return d / Math.sqrt(na * nb);
};

describe('camera motion from block matching', () => {
  const view = scene(7);

  it('measures a pan in pixels, sub-pixel, with the content moving against the camera', () => {
    const step = cameraStep(view(100, 100), view(102.5, 99));
    assert.ok(Math.abs(step.tx + 2.5) < 0.35, `tx ${step.tx}`);
    assert.ok(Math.abs(step.ty - 1) < 0.35, `ty ${step.ty}`);
    assert.ok(Math.abs(step.s) < 0.01, `s ${step.s}`);
    assert.ok(step.support > 0.9);
  });

  it('measures a zoom as a scale change', () => {
    const step = cameraStep(view(100, 100, 1), view(100, 100, 1.05));
    assert.ok(Math.abs(step.s - 0.05) < 0.015, `s ${step.s}`);
    assert.ok(Math.abs(step.tx) < 0.4 && Math.abs(step.ty) < 0.4);
  });

  it('a flat picture gives no estimate instead of a wrong one', () => {
    const flat = { width: W, height: H, data: new Uint8Array(W * H).fill(90) };
    assert.deepEqual(cameraStep(flat, flat), { tx: 0, ty: 0, s: 0, support: 0 });
  });
});

describe('the motion descriptor', () => {
  const step = (tx: number, ty: number, s = 0) => ({ tx, ty, s, support: 1 });
  const pan = (pxPerStep: number, angle = 0) =>
    shotMotion(Array(8).fill(step(pxPerStep * Math.cos(angle), pxPerStep * Math.sin(angle))), 0.12, W, 2);

  it('static shots have no vector', () => {
    assert.equal(motionDescriptor(pan(0.3)), undefined, 'drifting 5 % of the frame in 2 s');
    assert.ok(isStatic(shotMotion([], 0.12, W, 2)), 'nothing measured');
    assert.notEqual(motionDescriptor(pan(0.6)), undefined, 'travelling 10 % of the frame in 2 s');
  });

  it('the same move at a similar speed scores high; another direction, speed or a zoom scores low', () => {
    const a = motionDescriptor(pan(2))!;
    assert.equal(a.length, MOTION_DIM);
    assert.ok(dot(a, motionDescriptor(pan(2.6))!) > 0.7, 'same pan 1.3× faster');
    assert.ok(dot(a, motionDescriptor(pan(7))!) < 0.3, 'same direction, 3.5× faster');
    assert.ok(dot(a, motionDescriptor(pan(2, Math.PI))!) < 0.01, 'opposite direction');
    assert.ok(dot(a, motionDescriptor(pan(2, Math.PI / 2))!) < 0.1, 'perpendicular');
    const zoomIn = motionDescriptor(shotMotion(Array(8).fill(step(0, 0, 0.01)), 0.12, W, 2))!;
    const zoomOut = motionDescriptor(shotMotion(Array(8).fill(step(0, 0, -0.01)), 0.12, W, 2))!;
    assert.ok(dot(a, zoomIn) < 0.05);
    assert.ok(dot(zoomIn, zoomOut) < 0.01);
    assert.ok(dot(zoomIn, motionDescriptor(shotMotion(Array(8).fill(step(0, 0, 0.012)), 0.12, W, 2))!) > 0.8);
  });

  it('one bad step does not move the median', () => {
    const steps = [...Array(7).fill(step(2, 0)), step(-30, 10)];
    const m = shotMotion(steps, 0.12, W, 2);
    assert.ok(Math.abs(m.vx - 2 / W / 0.12) < 1e-9);
  });
});

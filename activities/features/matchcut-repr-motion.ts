import type { z } from 'zod';
import { defineFeature } from '../../lib/features/definition.ts';
import { type CameraStep, cameraStep, type GrayFrame } from '../../lib/matchcut/camera-motion.ts';
import { MOTION_DIM, motionDescriptor, shotMotion } from '../../lib/matchcut/motion-descriptor.ts';
import { scanDerivative } from '../../lib/media/derivative-scan.ts';
import { parseRational, ratio } from '../../lib/media/timing.ts';
import { keptShotRows, matchcutReprValue, storeRepr } from './matchcut-repr.ts';
import type videoRecipe from './video-360p-h264.ts';

type VideoDerivative = z.infer<(typeof videoRecipe)['output']>;

// Changing any of these changes the vectors: bump the version.
const WIDTH = 96;
const HEIGHT = 54;
/** Frames between the two of a step: ~0.12 s, enough for slow pans to move a measurable fraction of a pixel. */
const STEP_SEC = 0.12;
/** Steps measured per shot, spread over its middle (the first and last 10 % may hold a transition). */
const STEPS_PER_SHOT = 12;
const TRIM = 0.1;

/** The steps (first frame, second frame) measured for a shot [start, end) with `gap` frames per step. */
export function stepPairs(start: number, end: number, gap: number): [number, number][] {
  const trim = Math.max(1, Math.floor(TRIM * (end - start)));
  const lo = start + trim;
  const hi = end - trim - gap;
  if (hi < lo) return end - start > gap ? [[start, start + gap]] : [];
  const n = Math.min(STEPS_PER_SHOT, hi - lo + 1);
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const a = n === 1 ? lo : lo + Math.round(((hi - lo) * i) / (n - 1));
    if (out.at(-1)?.[0] !== a) out.push([a, a + gap]);
  }
  return out;
}

/**
 * `matchcut-repr:motion`: camera motion per kept picture shot (pan direction and speed, zoom direction and rate)
 * from block matching on 96×54 gray frames of the derivative, as a vector whose cosine says "the same camera
 * move". Static shots have no motion to match and are left out.
 */
export default defineFeature({
  name: 'matchcut-repr:motion',
  version: 1,
  description: 'camera motion per kept shot (pan/zoom direction and speed from block matching)',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  dependencies: ['shots', 'shot-dedup', 'video-360p-h264'],
  sinks: ['vectors'],
  outputKind: 'object',
  output: matchcutReprValue,
  async compute(ctx) {
    const video = ctx.inputs['video-360p-h264']!;
    const d = video.value as VideoDerivative;
    const fps = ratio(parseRational(d.frameRate)!);
    const gap = Math.max(1, Math.round(STEP_SEC * fps));
    const kept = keptShotRows(ctx);
    const steps = kept.map((row) => stepPairs(row.start, row.end, gap));
    const frames = new Map<number, GrayFrame>();
    await scanDerivative(
      ctx,
      video,
      {
        width: WIDTH,
        height: HEIGHT,
        pixelFormat: 'gray',
        wanted: steps.flat(2),
        stage: 'matchcut-repr:motion',
      },
      (index, data) => void frames.set(index, { width: WIDTH, height: HEIGHT, data }),
    );
    const rows: { row: (typeof kept)[number]; vector: Float32Array }[] = [];
    const motions: Record<string, { vx: number; vy: number; zoom: number }> = {};
    kept.forEach((row, i) => {
      const measured: CameraStep[] = steps[i]!.map(([a, b]) => cameraStep(frames.get(a)!, frames.get(b)!));
      const m = shotMotion(measured, gap / fps, WIDTH, (row.end - row.start) / fps);
      motions[String(row.shot)] = { vx: m.vx, vy: m.vy, zoom: m.zoom };
      const vector = motionDescriptor(m);
      if (vector) rows.push({ row, vector });
    });
    return storeRepr(ctx, 'motion', rows, MOTION_DIM, kept.length - rows.length, { motions });
  },
});

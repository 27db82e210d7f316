import { z } from 'zod';
import { BadInputError, defineFeature } from '../../lib/features/definition.ts';
import { runTool } from '../../lib/media/tools.ts';
import type { ProbeSummary } from './media-probe.ts';

const FRAMES = 8;
const W = 16;
const H = 9;

/**
 * A 144-d luma layout signature: 8 frames sampled evenly across the asset, each reduced to 16×9 gray, averaged
 * and L2-normalized. Runs on the gpu queue like every per-frame model.
 */
export default defineFeature({
  name: 'frame-signature',
  version: 1,
  description: '144-d average 16×9 luma layout of 8 evenly spaced frames, L2-normalized',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'gpu',
  dependencies: ['media-probe'],
  sinks: ['vectors'],
  output: z.object({
    frames: z.number().int().min(1),
    vector: z.array(z.number()).length(W * H),
    meanLuma: z.number().min(0).max(255),
  }),
  async compute(ctx) {
    const probe = ctx.inputs['media-probe']!.value as ProbeSummary;
    if (!probe.video) throw new BadInputError('the asset has no video stream');
    const file = await ctx.assetPath();
    const duration = probe.durationSec > 0 ? probe.durationSec : 1;
    const raw = await runTool(
      ctx.tools.ffmpeg,
      [
        ...['-v', 'error', '-nostdin', '-i', file, '-an', '-sn'],
        ...['-vf', `fps=${FRAMES}/${duration.toFixed(6)},scale=${W}:${H}:flags=area,format=gray`],
        ...['-frames:v', String(FRAMES), '-f', 'rawvideo', 'pipe:1'],
      ],
      { signal: ctx.signal },
    );
    const frames = Math.floor(raw.length / (W * H));
    if (frames === 0) throw new BadInputError('no frame could be decoded');
    const sum = new Float64Array(W * H);
    for (let f = 0; f < frames; f++) for (let i = 0; i < W * H; i++) sum[i]! += raw[f * W * H + i]!;
    const mean = [...sum].map((s) => s / frames);
    const meanLuma = mean.reduce((a, b) => a + b, 0) / mean.length;
    const centered = mean.map((m) => m - meanLuma);
    const norm = Math.hypot(...centered) || 1;
    return { frames, vector: centered.map((c) => c / norm), meanLuma };
  },
});

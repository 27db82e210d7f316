import { z } from 'zod';
import { countPackets } from '../../lib/media/metadata.ts';
import { SOFT_CODES } from '../../lib/media/qc.ts';
import { defineRecipe, metadataInput } from '../../lib/media/recipe.ts';
import { formatRational, ratio } from '../../lib/media/timing.ts';
import { VIDEO_RECIPE, videoPlan } from '../../lib/media/video-plan.ts';

export default defineRecipe({
  ...VIDEO_RECIPE,
  description: 'standardized video: H.264 360p, square pixels, constant frame rate, yuv420p, 2 s GOP',
  module: import.meta.url,
  dependencies: ['media-qc', 'media-metadata'],
  // Every soft QC finding but audio's.
  handles: SOFT_CODES.filter((code) => code !== 'audio-errors'),
  facts: z.object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** Constant frame rate as "num/den", and as a number. */
    frameRate: z.string(),
    fps: z.number().positive(),
    frames: z.number().int().nonnegative(),
    durationSec: z.number().nonnegative(),
    /** Frames per GOP: frame i is a keyframe exactly when i % gop === 0. */
    gop: z.number().int().positive(),
    pixelFormat: z.literal('yuv420p'),
    sourceStream: z.number().int().nonnegative(),
  }),
  async plan(ctx) {
    const meta = metadataInput(ctx);
    const input = await ctx.assetPath();
    const plan = videoPlan(meta);
    return {
      args: (output) => plan.args(input, output),
      placeholders: { '{input}': input },
      expectedDurationSec: meta.video?.durationSec ?? 0,
      async facts(file, tools, signal) {
        const frames = await countPackets(tools, file, 'v:0', signal);
        return {
          width: plan.width,
          height: plan.height,
          frameRate: formatRational(plan.rate),
          fps: ratio(plan.rate),
          frames,
          durationSec: frames / ratio(plan.rate),
          gop: plan.gop,
          pixelFormat: 'yuv420p' as const,
          sourceStream: meta.video!.streamIndex,
        };
      },
    };
  },
});

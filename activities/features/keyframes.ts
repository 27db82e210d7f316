import { z } from 'zod';
import { countPackets } from '../../lib/media/metadata.ts';
import { defineRecipe } from '../../lib/media/recipe.ts';
import type videoRecipe from './video-360p-h264.ts';

type VideoDerivative = z.infer<(typeof videoRecipe)['output']>;

// Changing anything below that changes the output bytes requires a new version.
const JPEG_QUALITY = 3;

/**
 * Thumbnails of the standardized video at its keyframes, i.e. at derivative frames 0, gop, 2·gop, …: MJPEG in
 * Matroska, decoded keyframes only (fast), one picture per GOP (every 2 s).
 */
export default defineRecipe({
  name: 'keyframes',
  version: 1,
  description: 'thumbnails (JPEG, 360p) at every keyframe of video-360p-h264: one per 2 s',
  module: import.meta.url,
  dependencies: ['video-360p-h264'],
  handles: [],
  facts: z.object({
    count: z.number().int().nonnegative(),
    /** Thumbnail k shows derivative frame k · gop. */
    gop: z.number().int().positive(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
  async plan(ctx) {
    const video = ctx.inputs['video-360p-h264']!;
    const derivative = video.value as VideoDerivative;
    const input = await ctx.objects.localPath({ uri: video.objectUri! });
    return {
      args: (output) => [
        ...['-v', 'error', '-skip_frame', 'nokey', '-i', input, '-map', '0:v:0', '-fps_mode', 'passthrough'],
        ...['-c:v', 'mjpeg', '-q:v', String(JPEG_QUALITY), '-pix_fmt', 'yuvj420p', '-map_metadata', '-1'],
        ...['-flags', '+bitexact', '-fflags', '+bitexact', '-f', 'matroska', output],
      ],
      placeholders: { '{input}': input },
      expectedDurationSec: derivative.durationSec,
      async facts(file, tools, signal) {
        const count = await countPackets(tools, file, 'v:0', signal);
        const expected = Math.ceil(derivative.frames / derivative.gop);
        if (count !== expected) {
          throw new Error(
            `keyframes: ${count} thumbnails for ${derivative.frames} frames (gop ${derivative.gop})`,
          );
        }
        return { count, gop: derivative.gop, width: derivative.width, height: derivative.height };
      },
    };
  },
});

import { z } from 'zod';
import { BadInputError, defineFeature } from '../../lib/features/definition.ts';
import { derivativeSource, VideoReader } from '../../lib/media/reader.ts';
import { shotParams } from '../../lib/shots/params.ts';
import { detectShots } from '../../lib/shots/read.ts';
import type videoRecipe from './video-360p-h264.ts';

type VideoDerivative = z.infer<(typeof videoRecipe)['output']>;

const range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

export const shotsValue = z.object({
  /** Frame indices refer to this derivative (frame i is shown from i / fps to (i + 1) / fps). */
  derivative: z.literal('video-360p-h264@1'),
  frameRate: z.string(),
  frames: z.number().int().positive(),
  /** The seed's format: shot index → [start, end), start inclusive, end exclusive; the shots cover every frame. */
  SB: z.record(z.string(), range),
  shots: z.array(
    z.object({
      start: z.number().int().nonnegative(),
      end: z.number().int().positive(),
      /** Mostly one flat colour (black between fades, a title card's background): not a picture to match. */
      blank: z.boolean(),
    }),
  ),
  /** boundaries[i] starts shots[i + 1]. */
  boundaries: z.array(
    z.object({
      frame: z.number().int().positive(),
      type: z.enum(['hard', 'gradual']),
      kind: z.enum(['cut', 'dissolve', 'fade-in', 'fade-out', 'fade-through-black']),
      /** Frames of the transition [first, end); [frame, frame] for a cut. */
      span: range,
      confidence: z.number().min(0).max(1),
    }),
  ),
  /** Analysis frame size and the minimum shot length in frames, as run. */
  analysis: z.object({ width: z.number(), height: z.number(), minShotFrames: z.number().int() }),
});

export type ShotsValue = z.infer<typeof shotsValue>;

/**
 * Shot boundaries of the standardized video: hard cuts and gradual transitions (dissolves, fades to and from
 * black), as frame ranges of video-360p-h264. Reads 64×36 frames through the reader API (ffmpeg decodes and
 * scales; the detector costs ~0.1 ms a frame). Runs on the gpu queue with the other per-frame models.
 */
export default defineFeature({
  name: 'shots',
  version: 1,
  description: 'shot boundaries (cuts, dissolves, fades) as [start, end) frame ranges of video-360p-h264',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'gpu',
  dependencies: ['video-360p-h264'],
  params: shotParams,
  output: shotsValue,
  sinks: ['annotations'],
  async compute(ctx) {
    const video = ctx.inputs['video-360p-h264']!;
    const d = video.value as VideoDerivative;
    if (!(d.frames > 0)) throw new BadInputError('the standardized video has no frames');
    const reader = new VideoReader(
      ctx.tools,
      derivativeSource(await ctx.objects.localPath({ uri: video.objectUri! }), d),
    );
    const detection = await detectShots(reader, ctx.params, {
      signal: ctx.signal,
      onProgress: (p) => ctx.heartbeat({ stage: 'shots', ...p, fps: Math.round(p.fps) }),
    });
    if (detection.frames !== d.frames) {
      throw new Error(`shots: read ${detection.frames} frames of a derivative that has ${d.frames}`);
    }
    return {
      derivative: 'video-360p-h264@1' as const,
      frameRate: d.frameRate,
      frames: d.frames,
      SB: Object.fromEntries(
        detection.shots.map((s, i) => [String(i), [s.start, s.end] as [number, number]]),
      ),
      shots: detection.shots,
      boundaries: detection.boundaries,
      analysis: {
        width: ctx.params.width,
        height: ctx.params.height,
        minShotFrames: detection.minShotFrames,
      },
    };
  },
});

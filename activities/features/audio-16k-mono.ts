import { z } from 'zod';
import type { MediaMetadata } from '../../lib/media/metadata.ts';
import { defineRecipe, metadataInput } from '../../lib/media/recipe.ts';
import { runTool } from '../../lib/media/tools.ts';

// Changing anything below that changes the output bytes requires a new version.
export const SAMPLE_RATE = 16_000 as const;

export interface AudioPlan {
  /** The audio stream used, or null when the asset has none and the derivative is silence. */
  sourceStream: number | null;
  durationSec: number;
  args(input: string, output: string): string[];
}

/**
 * The standardized audio derivative (pure): 16 kHz mono signed 16-bit PCM in WAV, sample 0 at the first video
 * frame (the origin of the standardized timeline), timestamp gaps filled with silence. No audio → silence as
 * long as the video, so every accepted asset has an audio track to read.
 */
export function audioPlan(meta: MediaMetadata): AudioPlan {
  const stream = meta.audio.find((a) => a.default) ?? meta.audio[0];
  const common = ['-ar', String(SAMPLE_RATE), '-ac', '1', '-c:a', 'pcm_s16le', '-map_metadata', '-1'];
  const exact = ['-flags', '+bitexact', '-fflags', '+bitexact', '-f', 'wav'];
  const videoSpan =
    meta.video?.timing?.spanSec ?? meta.video?.durationSec ?? meta.container?.durationSec ?? 0;
  if (!stream) {
    const silence = `anullsrc=r=${SAMPLE_RATE}:cl=mono`;
    return {
      sourceStream: null,
      durationSec: videoSpan,
      args: (_input, output) => [
        ...['-v', 'error', '-f', 'lavfi', '-i', silence, '-t', videoSpan.toFixed(6)],
        ...common,
        ...exact,
        output,
      ],
    };
  }
  // ffmpeg's timestamps start at the container's start; the standardized timeline starts at the first frame.
  const origin = Math.max(0, (meta.video?.startTimeSec ?? 0) - (meta.container?.startTimeSec ?? 0));
  const filters = [
    'aresample=async=1:first_pts=0',
    ...(origin > 0 ? [`atrim=start=${origin.toFixed(6)}`] : []),
    'asetpts=PTS-STARTPTS',
  ].join(',');
  return {
    sourceStream: stream.streamIndex,
    durationSec: stream.durationSec ?? videoSpan,
    args: (input, output) => [
      ...['-v', 'error', '-i', input, '-map', `0:${stream.streamIndex}`, '-vn', '-sn', '-dn'],
      ...['-map_chapters', '-1', '-af', filters],
      ...common,
      ...exact,
      output,
    ],
  };
}

export default defineRecipe({
  name: 'audio-16k-mono',
  version: 1,
  description: 'standardized audio: 16 kHz mono 16-bit PCM WAV aligned to the first video frame',
  module: import.meta.url,
  dependencies: ['media-qc', 'media-metadata'],
  handles: ['start-offset', 'audio-errors'],
  facts: z.object({
    sampleRate: z.literal(SAMPLE_RATE),
    channels: z.literal(1),
    sampleFormat: z.literal('s16'),
    samples: z.number().int().nonnegative(),
    durationSec: z.number().nonnegative(),
    sourceStream: z.number().int().nonnegative().nullable(),
    /** true when the asset has no audio and the derivative is silence. */
    silent: z.boolean(),
  }),
  async plan(ctx) {
    const meta = metadataInput(ctx);
    const input = await ctx.assetPath();
    const plan = audioPlan(meta);
    return {
      args: (output) => plan.args(input, output),
      placeholders: { '{input}': input },
      expectedDurationSec: plan.durationSec,
      async facts(file, tools, signal) {
        const out = await runTool(
          tools.ffprobe,
          ['-v', 'error', '-show_entries', 'stream=duration_ts', '-of', 'csv=p=0', file],
          { signal },
        );
        const samples = Number(out.toString('utf8').trim()) || 0;
        return {
          sampleRate: SAMPLE_RATE,
          channels: 1 as const,
          sampleFormat: 's16' as const,
          samples,
          durationSec: samples / SAMPLE_RATE,
          sourceStream: plan.sourceStream,
          silent: plan.sourceStream === null,
        };
      },
    };
  },
});

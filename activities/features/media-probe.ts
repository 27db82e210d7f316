import { z } from 'zod';
import { BadInputError, defineFeature } from '../../lib/features/definition.ts';
import { MediaToolError, runTool } from '../../lib/media/tools.ts';

const ratio = (r: string | undefined) => {
  const [n, d] = (r ?? '0/1').split('/').map(Number);
  return n && d ? n / d : 0;
};

const probeOutput = z.object({
  formatName: z.string(),
  durationSec: z.number().nonnegative(),
  bitRate: z.number().nonnegative(),
  video: z
    .object({
      codec: z.string(),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      avgFps: z.number().nonnegative(),
      realFps: z.number().nonnegative(),
    })
    .nullable(),
  audio: z.object({ codec: z.string(), sampleRate: z.number().int(), channels: z.number().int() }).nullable(),
  streams: z.number().int().nonnegative(),
});

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
}

/** A compact ffprobe summary: container, duration, first video and audio stream. */
export default defineFeature({
  name: 'media-probe',
  version: 1,
  description: 'ffprobe summary: container, duration, bit rate, first video and audio stream',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  output: probeOutput,
  async compute(ctx) {
    const file = await ctx.assetPath();
    let raw: Buffer;
    try {
      raw = await runTool(
        ctx.tools.ffprobe,
        ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
        { signal: ctx.signal },
      );
    } catch (err) {
      if (err instanceof MediaToolError) throw new BadInputError(`not readable as media: ${err.message}`);
      throw err;
    }
    const probe = JSON.parse(raw.toString('utf8')) as {
      format?: { format_name?: string; duration?: string; bit_rate?: string };
      streams?: FfprobeStream[];
    };
    const streams = probe.streams ?? [];
    const v = streams.find((s) => s.codec_type === 'video');
    const a = streams.find((s) => s.codec_type === 'audio');
    return {
      formatName: probe.format?.format_name ?? 'unknown',
      durationSec: Number(probe.format?.duration ?? 0) || 0,
      bitRate: Number(probe.format?.bit_rate ?? 0) || 0,
      video:
        v?.width && v.height
          ? {
              codec: v.codec_name ?? 'unknown',
              width: v.width,
              height: v.height,
              avgFps: ratio(v.avg_frame_rate),
              realFps: ratio(v.r_frame_rate),
            }
          : null,
      audio: a
        ? {
            codec: a.codec_name ?? 'unknown',
            sampleRate: Number(a.sample_rate ?? 0),
            channels: a.channels ?? 0,
          }
        : null,
      streams: streams.length,
    };
  },
});

export type ProbeSummary = z.infer<typeof probeOutput>;

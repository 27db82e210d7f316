import { z } from 'zod';
import { defineFeature } from '../../lib/features/definition.ts';
import type { ProbeSummary } from './media-probe.ts';

/** Joins the byte, probe and signature features into one record per asset (the demo mesh's root). */
export default defineFeature({
  name: 'asset-summary',
  version: 1,
  description: 'one-line summary of an asset from asset-bytes, media-probe and frame-signature',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  dependencies: ['asset-bytes', 'media-probe', 'frame-signature'],
  output: z.object({
    kind: z.enum(['video', 'audio', 'other']),
    durationSec: z.number().nonnegative(),
    resolution: z.string().nullable(),
    megabitsPerSecond: z.number().nonnegative(),
    entropyBitsPerByte: z.number(),
    meanLuma: z.number().nullable(),
  }),
  async compute(ctx) {
    const bytes = ctx.inputs['asset-bytes']!.value as { sizeBytes: number; entropyBitsPerByte: number };
    const probe = ctx.inputs['media-probe']!.value as ProbeSummary;
    const signature = ctx.inputs['frame-signature']!.value as { meanLuma: number };
    return {
      kind: probe.video ? ('video' as const) : probe.audio ? ('audio' as const) : ('other' as const),
      durationSec: probe.durationSec,
      resolution: probe.video ? `${probe.video.width}x${probe.video.height}` : null,
      megabitsPerSecond: probe.durationSec > 0 ? (bytes.sizeBytes * 8) / probe.durationSec / 1e6 : 0,
      entropyBitsPerByte: bytes.entropyBitsPerByte,
      meanLuma: signature.meanLuma ?? null,
    };
  },
});

import { defineFeature } from '../../lib/features/definition.ts';
import { mediaMetadataSchema, probeMetadata } from '../../lib/media/metadata.ts';

/**
 * The frozen metadata snapshot: container, every stream, and a packet scan of the main video stream (exact frame
 * count, frame timing, VFR). An unreadable file gives `readable: false` and ffprobe's reason (QC judges it).
 */
export default defineFeature({
  name: 'media-metadata',
  version: 1,
  description:
    'ffprobe snapshot: streams, codecs, frame count and timing (VFR), rotation, pixel aspect, color',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  output: mediaMetadataSchema,
  async compute(ctx) {
    return probeMetadata(ctx.tools, await ctx.assetPath(), ctx.signal);
  },
});

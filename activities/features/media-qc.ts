import { defineFeature } from '../../lib/features/definition.ts';
import type { MediaMetadata } from '../../lib/media/metadata.ts';
import { decodeCheck, qcVerdict, verdictSchema, worthDecoding } from '../../lib/media/qc.ts';

/**
 * The QC gate: decodes the whole video (and audio) once and judges the metadata. The verdict is stored like any
 * value — insert-only, with lineage — whether it passes or rejects: a `reject` verdict is the asset's quarantine
 * record, and every recipe refuses a rejected asset with its reasons (non-retryable). Nothing is deleted.
 */
export default defineFeature({
  name: 'media-qc',
  version: 1,
  description: 'QC verdict: hard reasons quarantine the asset, soft ones are normalized by the recipes',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  dependencies: ['media-metadata'],
  output: verdictSchema,
  heartbeatTimeoutMs: 15_000,
  timeoutMs: 6 * 60 * 60_000,
  async compute(ctx) {
    const meta = ctx.inputs['media-metadata']!.value as MediaMetadata;
    const expected = meta.video?.durationSec ?? 0;
    const decode = worthDecoding(meta)
      ? await decodeCheck(ctx.tools, await ctx.assetPath(), meta, {
          signal: ctx.signal,
          onProgress: (p) =>
            ctx.heartbeat({
              stage: 'decode',
              frame: p.frame,
              fraction: expected > 0 ? Math.min(1, p.outTimeSec / expected) : null,
            }),
        })
      : null;
    const verdict = qcVerdict(meta, decode);
    if (verdict.status === 'reject') ctx.log.warn({ reasons: verdict.reasons }, 'asset quarantined');
    return verdict;
  },
});

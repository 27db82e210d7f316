import { defineFeature, type FeatureContext } from '../../lib/features/definition.ts';
import type { MediaMetadata } from '../../lib/media/metadata.ts';
import type { FfmpegProgress } from '../../lib/media/process.ts';
import {
  type DecodeCheck,
  decodeCheck,
  qcVerdict,
  type StagedDerivative,
  verdictSchema,
  worthDecoding,
} from '../../lib/media/qc.ts';
import { toolVersion } from '../../lib/media/tools.ts';
import { VIDEO_RECIPE_ID, type VideoPlan, videoPlan } from '../../lib/media/video-plan.ts';
import { withScratchPath } from '../../lib/objects/scratch.ts';

type Ctx = FeatureContext<Record<string, never>>;

/** The video plan when the asset can be standardized at all, judging by the snapshot alone. */
function planToStage(meta: MediaMetadata): VideoPlan | null {
  if (qcVerdict(meta, null).status === 'reject') return null;
  try {
    return videoPlan(meta);
  } catch {
    return null;
  }
}

/**
 * The decode check that also writes the standardized video from the same decode, and stages it when the verdict
 * accepts the asset. When ffmpeg fails, the check is run again alone: the verdict must say what the decoders
 * found, not what a full disk or an encoder did.
 */
async function decodeAndStage(
  ctx: Ctx,
  meta: MediaMetadata,
  plan: VideoPlan,
  onProgress: (p: FfmpegProgress) => void,
): Promise<{ decode: DecodeCheck; staged: StagedDerivative[] }> {
  const input = await ctx.assetPath();
  return withScratchPath(ctx.objects.scratchDir, `${VIDEO_RECIPE_ID}-${ctx.entityKey}`, async (output) => {
    const both = await decodeCheck(ctx.tools, input, meta, {
      signal: ctx.signal,
      onProgress,
      alsoWrite: plan.outputArgs(output),
    });
    if (both.fatal) {
      ctx.log.warn(
        { fatal: both.fatal },
        'decode check with the derivative failed; checking the decode alone',
      );
      return {
        decode: await decodeCheck(ctx.tools, input, meta, { signal: ctx.signal, onProgress }),
        staged: [],
      };
    }
    if (qcVerdict(meta, both).status === 'reject') return { decode: both, staged: [] };
    const object = await ctx.objects.putFile(output, { move: true });
    const staged = {
      recipe: VIDEO_RECIPE_ID,
      ffmpeg: await toolVersion(ctx.tools.ffmpeg),
      args: plan.args('{input}', '{output}'),
      object,
    };
    return { decode: both, staged: [staged] };
  });
}

/**
 * The QC gate: decodes the whole video (and audio) once and judges the metadata. The same decode writes the
 * standardized 360p video, staged in the verdict for the recipe to adopt, so an accepted asset is decoded once
 * for both. The verdict is stored like any value — insert-only, with lineage — whether it passes or rejects: a
 * `reject` verdict is the asset's quarantine record, and every recipe refuses a rejected asset with its reasons
 * (non-retryable). Nothing is deleted.
 */
export default defineFeature({
  name: 'media-qc',
  version: 2,
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
    if (!worthDecoding(meta)) return qcVerdict(meta, null);
    const expected = meta.video?.durationSec ?? 0;
    const plan = planToStage(meta);
    const stage = plan ? `decode+${VIDEO_RECIPE_ID}` : 'decode';
    const onProgress = (p: FfmpegProgress) =>
      ctx.heartbeat({
        stage,
        frame: p.frame,
        fraction: expected > 0 ? Math.min(1, p.outTimeSec / expected) : null,
      });
    const { decode, staged } = plan
      ? await decodeAndStage(ctx, meta, plan, onProgress)
      : {
          decode: await decodeCheck(ctx.tools, await ctx.assetPath(), meta, {
            signal: ctx.signal,
            onProgress,
          }),
          staged: [],
        };
    const verdict = qcVerdict(meta, decode, staged);
    if (verdict.status === 'reject') ctx.log.warn({ reasons: verdict.reasons }, 'asset quarantined');
    return verdict;
  },
});

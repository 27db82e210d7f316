import { z } from 'zod';
import { BadInputError, defineFeature } from '../../lib/features/definition.ts';
import { sharedModelRunner } from '../../lib/matchcut/model-runners.ts';
import { SAMPLE_POSITIONS, sampleFrames } from '../../lib/matchcut/shot-frames.ts';
import { scanDerivative } from '../../lib/media/derivative-scan.ts';
import { objectRefSchema } from '../../lib/objects/store.ts';
import { createVectorMatrix } from '../../lib/vector/matrix.ts';
import { writeVectorMatrix } from '../../lib/vector/matrix-file.ts';
import type { ShotsValue } from './shots.ts';

export const shotEmbeddingValue = z.object({
  /**
   * Vector matrix: one row per picture shot (blank shots have none, so a title of blank shots has an empty
   * matrix), `parts` model outputs concatenated.
   */
  object: objectRefSchema,
  model: z.string(),
  modelVersion: z.number().int().positive(),
  /** Execution provider the model ran on (e.g. cpu, cuda). */
  provider: z.string(),
  rows: z.number().int().nonnegative(),
  dim: z.number().int().positive(),
  /** Each row: the model's output for frames at these fractions of the shot, each part L2-normalized. */
  parts: z.number().int().positive(),
  partDim: z.number().int().positive(),
  positions: z.array(z.number()),
});

export type ShotEmbeddingValue = z.infer<typeof shotEmbeddingValue>;

export interface ShotEmbeddingSpec {
  /** Model name as the registry knows it (built-in, or `<name>.json` in the models dir). */
  model: string;
  /** Bump with the model (weights or manifest): old values stay, new ones are computed. */
  version: number;
  /** `import.meta.url` of the module defining the feature. */
  module: string;
}

/**
 * `shot-embedding:<model>`: the model's output for three frames of every picture shot (at 1/6, 1/2 and 5/6 of
 * it), read from the standardized derivative in one sequential pass and run through onnxruntime in batches.
 */
export function shotEmbeddingFeature(spec: ShotEmbeddingSpec) {
  return defineFeature({
    name: `shot-embedding:${spec.model}`,
    version: spec.version,
    description: `${spec.model} model outputs for 3 frames of every picture shot (onnxruntime, batched)`,
    module: spec.module,
    entityType: 'asset',
    taskQueue: 'gpu',
    dependencies: ['shots', 'video-360p-h264'],
    outputKind: 'object',
    output: shotEmbeddingValue,
    async compute(ctx) {
      const shots = ctx.inputs.shots!.value as ShotsValue;
      const video = ctx.inputs['video-360p-h264']!;
      const picture = shots.shots.flatMap((s, shot) => (s.blank ? [] : [{ ...s, shot }]));
      const runner = await sharedModelRunner(spec.model);
      if (runner.manifest.version !== spec.version) {
        throw new BadInputError(
          `model ${spec.model} is at version ${runner.manifest.version}, the feature expects ${spec.version}`,
        );
      }
      const parts = SAMPLE_POSITIONS.length;
      const partDim = runner.dim;
      const dim = parts * partDim;
      const data = new Float32Array(picture.length * dim);
      // Frame index → the (row, part) slots it fills; a shot shorter than 3 frames uses a frame twice.
      const slots = new Map<number, number[]>();
      picture.forEach((s, row) => {
        sampleFrames(s).forEach((f, part) => {
          slots.set(f, [...(slots.get(f) ?? []), row * parts + part]);
        });
      });
      const { width, height } = runner.manifest.input;
      const batchSize = 32;
      let batch: { frame: number; pixels: Uint8Array }[] = [];
      let embedded = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const out = await runner.embed(batch.map((b) => b.pixels));
        batch.forEach((b, i) => {
          for (const slot of slots.get(b.frame)!) {
            data.set(out.subarray(i * partDim, (i + 1) * partDim), slot * partDim);
          }
        });
        embedded += batch.length;
        ctx.heartbeat({ stage: 'embed', frames: embedded, of: slots.size });
        batch = [];
      };
      await scanDerivative(
        ctx,
        video,
        { width, height, pixelFormat: 'rgb24', wanted: slots.keys(), stage: `shot-embedding:${spec.model}` },
        async (frame, pixels) => {
          batch.push({ frame, pixels });
          if (batch.length >= batchSize) await flush();
        },
      );
      await flush();
      const matrix = createVectorMatrix({
        dim,
        rows: data,
        shots: picture.map((s) => ({ shot: s.shot, start: s.start, end: s.end, group: null })),
        info: { feature: `shot-embedding:${spec.model}`, model: spec.model, parts, partDim },
      });
      return {
        object: await writeVectorMatrix(ctx.objects, matrix),
        model: spec.model,
        modelVersion: spec.version,
        provider: runner.providers[0] ?? 'cpu',
        rows: matrix.rows,
        dim,
        parts,
        partDim,
        positions: [...SAMPLE_POSITIONS],
      };
    },
  });
}

/** The built-in composition descriptor (see docs/models.md). */
export default shotEmbeddingFeature({ model: 'layout', version: 1, module: import.meta.url });

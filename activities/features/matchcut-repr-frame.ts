import { defineFeature } from '../../lib/features/definition.ts';
import { unitParts } from '../../lib/matchcut/dedup.ts';
import { loadVectorMatrix } from '../../lib/vector/matrix-file.ts';
import { keptShotRows, matchcutReprValue, storeRepr } from './matchcut-repr.ts';
import type { ShotEmbeddingValue } from './shot-embedding.ts';

export interface FrameReprSpec {
  /** e.g. 'frame' → matchcut-repr:frame. */
  flavor: string;
  /** The shot-embedding feature it averages, e.g. shot-embedding:layout. */
  embedding: string;
  version: number;
  module: string;
}

/**
 * `matchcut-repr:<flavor>` for composition: per kept picture shot, the mean of its sampled frames' embeddings
 * (each part unit length first), so shots framed alike score high whatever happens in between.
 */
export function frameReprFeature(spec: FrameReprSpec) {
  return defineFeature({
    name: `matchcut-repr:${spec.flavor}`,
    version: spec.version,
    description: `composition per kept shot: mean of ${spec.embedding} over its sampled frames`,
    module: spec.module,
    entityType: 'asset',
    taskQueue: 'cpu',
    dependencies: ['shots', 'shot-dedup', spec.embedding],
    sinks: ['vectors'],
    outputKind: 'object',
    output: matchcutReprValue,
    async compute(ctx) {
      const input = ctx.inputs[spec.embedding]!;
      const e = input.value as ShotEmbeddingValue;
      const m = await loadVectorMatrix(ctx.objects, { uri: input.objectUri! });
      const parts = unitParts(m.data, e.partDim);
      const rowOfShot = new Map(m.shots.map((s, r) => [s.shot, r]));
      const kept = keptShotRows(ctx);
      const rows = kept.flatMap((row) => {
        const r = rowOfShot.get(row.shot);
        if (r === undefined) throw new Error(`${spec.embedding} has no row for kept shot ${row.shot}`);
        const vector = new Float32Array(e.partDim);
        for (let p = 0; p < e.parts; p++) {
          const o = r * e.dim + p * e.partDim;
          for (let c = 0; c < e.partDim; c++) vector[c]! += parts[o + c]! / e.parts;
        }
        // A picture with no layout at all (flat grey throughout) has no direction to compare.
        return vector.some((v) => v !== 0) ? [{ row, vector }] : [];
      });
      return storeRepr(ctx, spec.flavor, rows, e.partDim, kept.length - rows.length, {
        embedding: spec.embedding,
        model: e.model,
      });
    },
  });
}

export default frameReprFeature({
  flavor: 'frame',
  embedding: 'shot-embedding:layout',
  version: 1,
  module: import.meta.url,
});

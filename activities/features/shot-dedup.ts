import { z } from 'zod';
import { defineFeature } from '../../lib/features/definition.ts';
import { dedupShots, unitParts } from '../../lib/matchcut/dedup.ts';
import { loadVectorMatrix } from '../../lib/vector/matrix-file.ts';
import type { ShotEmbeddingValue } from './shot-embedding.ts';
import type { ShotsValue } from './shots.ts';

const range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

export const shotDedupValue = z.object({
  /** The seed's format: the kept picture shots, by their index in `shots`, → [start, end). */
  SB_deduped: z.record(z.string(), range),
  kept: z.array(z.number().int().nonnegative()),
  /** Near-duplicate groups (two or more shots), earliest first: the first is the one kept. */
  groups: z.array(z.array(z.number().int().nonnegative()).min(2)),
  duplicateOf: z.record(z.string(), z.number().int().nonnegative()),
  /** Blank shots (black, flat colour): neither kept nor grouped, there is nothing to compare. */
  blank: z.array(z.number().int().nonnegative()),
  threshold: z.number(),
  embedding: z.string(),
});

export type ShotDedupValue = z.infer<typeof shotDedupValue>;

const params = z
  .object({
    /** Two shots are near-duplicates when every sampled part has at least this cosine. */
    threshold: z.number().min(0).max(1).default(0.92),
  })
  .strict();

const EMBEDDING = 'shot-embedding:layout';

/**
 * Near-duplicate shots (repeats, re-encodes, the same shot re-used): groups by the minimum cosine over the three
 * sampled frames of `shot-embedding:layout`, keeping the earliest shot of each group; yields `SB_deduped`.
 */
export default defineFeature({
  name: 'shot-dedup',
  version: 1,
  description: 'near-duplicate shot groups (earliest kept) and SB_deduped, from shot-embedding:layout',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  dependencies: ['shots', EMBEDDING],
  params,
  output: shotDedupValue,
  async compute(ctx) {
    const shots = ctx.inputs.shots!.value as ShotsValue;
    const embedding = ctx.inputs[EMBEDDING]!;
    const e = embedding.value as ShotEmbeddingValue;
    const m = await loadVectorMatrix(ctx.objects, { uri: embedding.objectUri! });
    const data = unitParts(m.data, e.partDim);
    const result = dedupShots(
      { shots: m.shots.map((s) => s.shot), data, parts: e.parts, partDim: e.partDim },
      ctx.params.threshold,
    );
    return {
      SB_deduped: Object.fromEntries(
        result.kept.map((i) => [String(i), [shots.shots[i]!.start, shots.shots[i]!.end] as [number, number]]),
      ),
      kept: result.kept,
      groups: result.groups,
      duplicateOf: result.duplicateOf,
      blank: shots.shots.flatMap((s, i) => (s.blank ? [i] : [])),
      threshold: ctx.params.threshold,
      embedding: EMBEDDING,
    };
  },
});

import { z } from 'zod';
import { defineFeature } from '../../lib/features/definition.ts';
import { kSchema } from '../../lib/matchcut/filters.ts';
import { scorePairs } from '../../lib/matchcut/pairs.ts';
import { loadVectorMatrix } from '../../lib/vector/matrix-file.ts';
import type { MatchcutReprValue } from './matchcut-repr.ts';

const range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

export const matchcutPairsValue = z.object({
  flavor: z.string(),
  k: z.number().int().positive(),
  /** The seed's format, best first: shot indices of the `shots` value and the cosine of their representations. */
  pairs: z.array(
    z.object({
      shot1: z.number().int().nonnegative(),
      shot2: z.number().int().nonnegative(),
      score: z.number(),
      frames1: range,
      frames2: range,
    }),
  ),
  shots: z.number().int().nonnegative(),
  kernel: z.string(),
  ms: z.number().nonnegative(),
});

export type MatchcutPairsValue = z.infer<typeof matchcutPairsValue>;

const params = z
  .object({
    k: kSchema.default(100),
    /** Leave out pairs of shots fewer than this many frames apart (0: adjacent shots may pair). */
    excludeWithinFrames: z.number().int().min(0).default(0),
    minScore: z.number().min(-1).max(1).optional(),
  })
  .strict();

/**
 * `matchcut-pairs:<flavor>`: the top K pairs of shots inside the title by cosine of `matchcut-repr:<flavor>`,
 * exact: a blocked matrix product with a top-K heap (never all pairs in memory, no per-shot clip files).
 */
export function matchcutPairsFeature(spec: { flavor: string; version: number; module: string }) {
  const repr = `matchcut-repr:${spec.flavor}`;
  return defineFeature({
    name: `matchcut-pairs:${spec.flavor}`,
    version: spec.version,
    description: `top-K shot pairs inside the title by ${repr} (exact, blocked, top-K heap)`,
    module: spec.module,
    entityType: 'asset',
    taskQueue: 'cpu',
    dependencies: [repr],
    params,
    output: matchcutPairsValue,
    sinks: ['annotations'],
    async compute(ctx) {
      const input = ctx.inputs[repr]!;
      const matrix = await loadVectorMatrix(ctx.objects, { uri: input.objectUri! });
      const started = performance.now();
      const { pairs, stats } =
        matrix.rows < 2
          ? { pairs: [], stats: { kernel: 'none' } }
          : await scorePairs([{ id: ctx.entityKey, matrix }], {
              k: ctx.params.k,
              excludeWithinFrames: ctx.params.excludeWithinFrames,
              ...(ctx.params.minScore === undefined ? {} : { minScore: ctx.params.minScore }),
              signal: ctx.signal,
              onProgress: (done, total) => ctx.heartbeat({ stage: 'pairs', tiles: done, of: total }),
            });
      const frames = (row: number) => {
        const s = matrix.shots[row]!;
        return [s.start, s.end] as [number, number];
      };
      return {
        flavor: (input.value as MatchcutReprValue).flavor,
        k: ctx.params.k,
        pairs: pairs.map((p) => ({
          shot1: p.shot1,
          shot2: p.shot2,
          score: p.score,
          frames1: frames(p.row1),
          frames2: frames(p.row2),
        })),
        shots: matrix.rows,
        kernel: stats.kernel,
        ms: performance.now() - started,
      };
    },
  });
}

export const matchcutPairsFrame = matchcutPairsFeature({
  flavor: 'frame',
  version: 1,
  module: import.meta.url,
});
export const matchcutPairsMotion = matchcutPairsFeature({
  flavor: 'motion',
  version: 1,
  module: import.meta.url,
});

import { z } from 'zod';
import type { FeatureContext } from '../../lib/features/definition.ts';
import { objectRefSchema } from '../../lib/objects/store.ts';
import { createVectorMatrix, type ShotRow } from '../../lib/vector/matrix.ts';
import { writeVectorMatrix } from '../../lib/vector/matrix-file.ts';
import type { ShotDedupValue } from './shot-dedup.ts';
import type { ShotsValue } from './shots.ts';

/** Every `matchcut-repr:<flavor>` value: a per-shot vector matrix over the kept (deduplicated) picture shots. */
export const matchcutReprValue = z.object({
  object: objectRefSchema,
  flavor: z.string(),
  /** 0 when no kept shot has anything to match on (all blank, or all static for motion): an empty matrix. */
  rows: z.number().int().nonnegative(),
  dim: z.number().int().positive(),
  /** Kept picture shots left out because the flavor has nothing to say about them (e.g. static for motion). */
  skipped: z.number().int().nonnegative(),
  frameRate: z.string(),
});

export type MatchcutReprValue = z.infer<typeof matchcutReprValue>;

/** The kept picture shots of a dedup value as matrix rows: shot index, frame range, its group's index if any. */
export function keptShotRows(ctx: FeatureContext<unknown>): ShotRow[] {
  const shots = ctx.inputs.shots!.value as ShotsValue;
  const dedup = ctx.inputs['shot-dedup']!.value as ShotDedupValue;
  const groupOf = new Map(dedup.groups.map((g, i) => [g[0]!, i]));
  return dedup.kept.map((shot) => ({
    shot,
    start: shots.shots[shot]!.start,
    end: shots.shots[shot]!.end,
    group: groupOf.get(shot) ?? null,
  }));
}

/** Stores the rows' vectors as the flavor's matrix and describes it. */
export async function storeRepr(
  ctx: FeatureContext<unknown>,
  flavor: string,
  rows: { row: ShotRow; vector: Float32Array }[],
  dim: number,
  skipped: number,
  info: Record<string, unknown> = {},
): Promise<MatchcutReprValue> {
  const data = new Float32Array(rows.length * dim);
  for (const [i, r] of rows.entries()) data.set(r.vector, i * dim);
  const matrix = createVectorMatrix({
    dim,
    rows: data,
    shots: rows.map((r) => r.row),
    info: { feature: `matchcut-repr:${flavor}`, ...info },
  });
  const shots = ctx.inputs.shots!.value as ShotsValue;
  return {
    object: await writeVectorMatrix(ctx.objects, matrix),
    flavor,
    rows: matrix.rows,
    dim,
    skipped,
    frameRate: shots.frameRate,
  };
}

import { z } from 'zod';
import { defineFeature } from '../../lib/features/definition.ts';
import {
  coreFrames,
  dedupShots,
  type ShotSignature,
  type SignatureFrame,
  signatureFrame,
  unitParts,
} from '../../lib/matchcut/dedup.ts';
import { scanDerivative } from '../../lib/media/derivative-scan.ts';
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
  /** Pairs whose thumbnails were aligned (the rest were ruled out by the layout embedding). */
  compared: z.number().int().nonnegative(),
});

export type ShotDedupValue = z.infer<typeof shotDedupValue>;

const params = z
  .object({
    /** Mean agreement (cosine) of time-aligned thumbnail detail at or above which shots are near-duplicates. */
    threshold: z.number().min(0).max(1).default(0.5),
    /** Pairs whose mean layout embeddings are less alike than this are not compared at all. */
    candidateCosine: z.number().min(-1).max(1).default(0.5),
  })
  .strict();

const EMBEDDING = 'shot-embedding:layout';
// Changing these changes the groups: bump the version.
const THUMB_W = 64;
const THUMB_H = 36;

/**
 * Near-duplicate shots (repeats, re-encodes, a shot re-used with other cuts): time-aligned detail of 64×36 luma
 * thumbnails of every frame, candidates picked by `shot-embedding:layout`; the earliest shot of each group is
 * kept. Yields `SB_deduped`.
 */
export default defineFeature({
  name: 'shot-dedup',
  version: 1,
  description: 'near-duplicate shot groups (earliest kept) and SB_deduped: time-aligned thumbnails',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  dependencies: ['shots', EMBEDDING, 'video-360p-h264'],
  params,
  output: shotDedupValue,
  sinks: ['annotations'],
  async compute(ctx) {
    const shots = ctx.inputs.shots!.value as ShotsValue;
    const video = ctx.inputs['video-360p-h264']!;
    const embedding = ctx.inputs[EMBEDDING]!;
    const e = embedding.value as ShotEmbeddingValue;
    const m = await loadVectorMatrix(ctx.objects, { uri: embedding.objectUri! });
    const cores = m.shots.map((x) => coreFrames(x.start, x.end));
    const frames = new Map<number, SignatureFrame>();
    await scanDerivative(
      ctx,
      video,
      {
        width: THUMB_W,
        height: THUMB_H,
        pixelFormat: 'gray',
        wanted: cores.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i)),
        stage: 'shot-dedup',
      },
      (index, gray) => void frames.set(index, signatureFrame(gray, THUMB_W)),
    );
    const signatures: ShotSignature[] = m.shots.map((x, r) => ({
      shot: x.shot,
      frames: Array.from({ length: cores[r]![1] - cores[r]![0] }, (_, i) => frames.get(cores[r]![0] + i)!),
    }));
    // Mean layout per shot, to rule out pairs that cannot be duplicates before aligning them.
    const parts = unitParts(m.data, e.partDim);
    const mean = m.shots.map((_, r) => {
      const v = new Float32Array(e.partDim);
      for (let p = 0; p < e.parts; p++) {
        for (let c = 0; c < e.partDim; c++) v[c]! += parts[r * e.dim + p * e.partDim + c]!;
      }
      const n = Math.hypot(...v) || 1;
      return v.map((x) => x / n);
    });
    let compared = 0;
    const candidates = (i: number, j: number) => {
      let dot = 0;
      for (let c = 0; c < e.partDim; c++) dot += mean[i]![c]! * mean[j]![c]!;
      if (dot < ctx.params.candidateCosine) return false;
      compared++;
      return true;
    };
    const result = dedupShots(signatures, ctx.params.threshold, candidates);
    return {
      SB_deduped: Object.fromEntries(
        result.kept.map((i) => [String(i), [shots.shots[i]!.start, shots.shots[i]!.end] as [number, number]]),
      ),
      kept: result.kept,
      groups: result.groups,
      duplicateOf: result.duplicateOf,
      blank: shots.shots.flatMap((s, i) => (s.blank ? [i] : [])),
      threshold: ctx.params.threshold,
      compared,
    };
  },
});

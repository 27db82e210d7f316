// A title's match-cut matrix from its video assets' `matchcut-repr:<flavor>` values: one asset's matrix as is,
// several assets' matrices one after another with their shot numbers offset, so shots stay unique in the title.
import type { ObjectStore } from '../objects/store.ts';
import { createVectorMatrix, type VectorMatrix } from '../vector/matrix.ts';
import { loadVectorMatrix } from '../vector/matrix-file.ts';

export interface AssetRepr {
  asset: string;
  valueId: string;
  objectUri: string;
  /** The derivative's frame rate, e.g. '25/1'. */
  frameRate: string;
}

/** Where a title's shot number comes from: the asset and its own shot index. */
export interface AssetSpan {
  asset: string;
  /** Title shot numbers [offset, offset + shots) are this asset's shots 0 … shots − 1. */
  offset: number;
  shots: number;
  frameRate: string;
}

export async function loadTitleMatrix(
  objects: ObjectStore,
  reprs: readonly AssetRepr[],
): Promise<{ matrix: VectorMatrix; spans: AssetSpan[] }> {
  const matrices = await Promise.all(reprs.map((r) => loadVectorMatrix(objects, { uri: r.objectUri })));
  return joinAssetMatrices(matrices.map((matrix, i) => ({ ...reprs[i]!, matrix })));
}

/** One title's matrix from its assets' matrices, in the given order (see the top of this file). */
export function joinAssetMatrices(
  assets: readonly { asset: string; frameRate: string; matrix: VectorMatrix }[],
): { matrix: VectorMatrix; spans: AssetSpan[] } {
  const spans: AssetSpan[] = [];
  let offset = 0;
  for (const { asset, frameRate, matrix: m } of assets) {
    const shots = Math.max(0, ...m.shots.map((s) => s.shot + 1));
    spans.push({ asset, offset, shots, frameRate });
    offset += shots;
  }
  if (assets.length === 1) return { matrix: assets[0]!.matrix, spans };
  const matrices = assets.map((a) => a.matrix);
  const dim = matrices[0]!.dim;
  const data = new Float32Array(matrices.reduce((n, m) => n + m.data.length, 0));
  let at = 0;
  for (const m of matrices) {
    data.set(m.data, at);
    at += m.data.length;
  }
  const matrix = createVectorMatrix({
    dim,
    rows: data,
    shots: matrices.flatMap((m, i) => m.shots.map((s) => ({ ...s, shot: s.shot + spans[i]!.offset }))),
    info: { assets: spans },
  });
  return { matrix, spans };
}

/** The asset and its own shot index behind a title's shot number. */
export function assetShot(spans: readonly AssetSpan[], shot: number): { span: AssetSpan; shot: number } {
  const span = spans.find((s) => shot >= s.offset && shot < s.offset + s.shots);
  if (!span) throw new RangeError(`shot ${shot} is outside the title's assets`);
  return { span, shot: shot - span.offset };
}

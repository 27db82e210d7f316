// Near-duplicate grouping of shots: in shot order, a shot joins the group of the first earlier kept shot it
// resembles at least `threshold` in every sampled part (the earliest shot of a group is the one kept); else it
// is kept and may lead a group of its own. Quadratic in kept shots; fine for a title's few thousand.

export interface DedupInput {
  /** Per row: the shot index, in increasing order. */
  shots: readonly number[];
  /** rows × (parts · partDim), each part L2-normalized. */
  data: Float32Array;
  parts: number;
  partDim: number;
}

export interface DedupResult {
  /** Shot indices kept, in order. */
  kept: number[];
  /** Groups of two or more shots, earliest (kept) first. */
  groups: number[][];
  /** Dropped shot → the kept shot it duplicates. */
  duplicateOf: Record<string, number>;
}

/** The smallest cosine over the parts of rows a and b. */
export function minPartCosine(input: DedupInput, a: number, b: number): number {
  const { data, parts, partDim } = input;
  const dim = parts * partDim;
  let min = Number.POSITIVE_INFINITY;
  for (let p = 0; p < parts; p++) {
    let dot = 0;
    const oa = a * dim + p * partDim;
    const ob = b * dim + p * partDim;
    for (let c = 0; c < partDim; c++) dot += data[oa + c]! * data[ob + c]!;
    if (dot < min) min = dot;
  }
  return min;
}

export function dedupShots(input: DedupInput, threshold: number): DedupResult {
  const rows = input.shots.length;
  if (input.data.length !== rows * input.parts * input.partDim) {
    throw new RangeError(
      `dedup: ${input.data.length} values for ${rows} rows of ${input.parts}×${input.partDim}`,
    );
  }
  const keptRows: number[] = [];
  const members = new Map<number, number[]>();
  const duplicateOf: Record<string, number> = {};
  for (let r = 0; r < rows; r++) {
    const leader = keptRows.find((k) => minPartCosine(input, k, r) >= threshold);
    if (leader === undefined) {
      keptRows.push(r);
      continue;
    }
    const leaderShot = input.shots[leader]!;
    duplicateOf[String(input.shots[r])] = leaderShot;
    members.set(leader, [...(members.get(leader) ?? [leaderShot]), input.shots[r]!]);
  }
  return {
    kept: keptRows.map((r) => input.shots[r]!),
    groups: [...members.entries()].sort(([a], [b]) => a - b).map(([, g]) => g),
    duplicateOf,
  };
}

/** A copy of `data` with every consecutive run of `partDim` values scaled to unit length (zero runs stay zero). */
export function unitParts(data: Float32Array, partDim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let o = 0; o < data.length; o += partDim) {
    let sum = 0;
    for (let c = 0; c < partDim; c++) sum += data[o + c]! ** 2;
    const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let c = 0; c < partDim; c++) out[o + c] = data[o + c]! * inv;
  }
  return out;
}

// Near-duplicate grouping of shots (repeats, re-encodes, a shot used twice with different cuts or transitions).
// Each shot is a sequence of small luma thumbnails sampled a few times a second over its core (the ends may hold
// a transition). Two shots are near-duplicates when, at the best time offset, their thumbnails agree at least
// `threshold` on average (cosine of mean-removed luma) over most of the shorter one. Thumbnails this small do not
// see re-encoding or rescaling, and the alignment does not care where each shot's cut falls; a re-framed shot of
// the same scene (a different crop or move) does not align. The layout embedding picks candidate pairs first.
// In shot order, a shot joins the group of the first earlier kept shot it duplicates; the earliest is kept.

export interface ShotSignature {
  shot: number;
  /** Thumbnails in time order, each mean-removed and unit length (a flat one is all zeros). */
  frames: Float32Array[];
}

export interface DedupResult {
  /** Shot indices kept, in order. */
  kept: number[];
  /** Groups of two or more shots, earliest (kept) first. */
  groups: number[][];
  /** Dropped shot → the kept shot it duplicates. */
  duplicateOf: Record<string, number>;
}

/** The shorter shot must overlap the longer by this fraction of its samples at the chosen offset. */
const MIN_OVERLAP = 0.6;

/**
 * A gray thumbnail's detail (each pixel minus the mean of its 3×3 neighbourhood), unit length; all zeros when
 * the picture is flat. Detail moves with the slightest re-framing, yet survives re-encoding at this size.
 */
export function thumbnailVector(gray: Uint8Array, width: number): Float32Array {
  const height = gray.length / width;
  const out = new Float32Array(gray.length);
  let sum = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let n = 0;
      let acc = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          acc += gray[yy * width + xx]!;
          n++;
        }
      }
      const i = y * width + x;
      out[i] = gray[i]! - acc / n;
      sum += out[i]! ** 2;
    }
  }
  // Below ~1/2 grey level of detail per pixel the picture is flat: nothing to compare.
  if (sum < gray.length / 4) return out.fill(0);
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i]! *= inv;
  return out;
}

/** Frames sampled from the core of [start, end): every `stride` frames, the outer `trim` fraction left out. */
export function signatureFrames(start: number, end: number, stride: number, trim = 0.1): number[] {
  const cut = Math.floor(trim * (end - start));
  const out: number[] = [];
  for (let f = start + cut; f < end - cut; f += stride) out.push(f);
  return out.length > 0 ? out : [start + ((end - start) >> 1)];
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The best mean thumbnail agreement of two shots over time offsets that overlap enough. */
export function alignedSimilarity(a: ShotSignature, b: ShotSignature): number {
  const [s, l] = a.frames.length <= b.frames.length ? [a.frames, b.frames] : [b.frames, a.frames];
  const need = Math.max(1, Math.ceil(MIN_OVERLAP * s.length));
  let best = -1;
  // Offset o places s[i] against l[i + o].
  for (let o = need - s.length; o <= l.length - need; o++) {
    let sum = 0;
    let n = 0;
    for (let i = Math.max(0, -o); i < s.length && i + o < l.length; i++) {
      sum += dot(s[i]!, l[i + o]!);
      n++;
    }
    if (n >= need && sum / n > best) best = sum / n;
  }
  return best;
}

/**
 * Groups shots (signatures in shot order). `candidates(i, j)` (row indices, i < j) may rule out pairs cheaply
 * before the alignment runs.
 */
export function dedupShots(
  signatures: readonly ShotSignature[],
  threshold: number,
  candidates: (i: number, j: number) => boolean = () => true,
): DedupResult {
  const keptRows: number[] = [];
  const members = new Map<number, number[]>();
  const duplicateOf: Record<string, number> = {};
  for (let r = 0; r < signatures.length; r++) {
    const leader = keptRows.find(
      (k) => candidates(k, r) && alignedSimilarity(signatures[k]!, signatures[r]!) >= threshold,
    );
    const shot = signatures[r]!.shot;
    if (leader === undefined) {
      keptRows.push(r);
      continue;
    }
    const leaderShot = signatures[leader]!.shot;
    duplicateOf[String(shot)] = leaderShot;
    members.set(leader, [...(members.get(leader) ?? [leaderShot]), shot]);
  }
  return {
    kept: keptRows.map((r) => signatures[r]!.shot),
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

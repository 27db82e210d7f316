// Near-duplicate grouping of shots (repeats, re-encodes, a shot used twice with different cuts or transitions).
// Every frame of a shot's core (the ends may hold a transition) becomes the *detail* of a 64×36 luma thumbnail
// (each pixel minus its 3×3 neighbourhood mean, unit length). Two shots are near-duplicates when, at the best
// time offset, their detail agrees at least `threshold` on average (cosine) over most of the shorter one. Detail this small
// does not see re-encoding or rescaling, yet any re-framing of the same scene (a shift of a few per cent, a small
// zoom) decorrelates it; every frame is kept because a fast pan decorrelates it between neighbouring frames too.
// In shot order, a shot joins the group of the first earlier kept shot it duplicates; the earliest is kept.

/** One frame of a signature: the detail of its thumbnail as int8 (value ≈ q · scale; unit length). */
export interface SignatureFrame {
  detail: Int8Array;
  scale: number;
}

export interface ShotSignature {
  shot: number;
  /** Consecutive frames of the shot's core, in time order. */
  frames: SignatureFrame[];
}

export interface DedupResult {
  /** Shot indices kept, in order. */
  kept: number[];
  /** Groups of two or more shots, earliest (kept) first. */
  groups: number[][];
  /** Dropped shot → the kept shot it duplicates. */
  duplicateOf: Record<string, number>;
}

/** The shorter shot must overlap the longer by this fraction of its frames at the chosen offset. */
const MIN_OVERLAP = 0.6;
/** Offsets are searched on about this many frames of the shorter shot, then scored on every FINE_STEP-th. */
const SEARCH_FRAMES = 8;
const FINE_STEP = 2;
/** Offsets either side of the one found that the fine comparison tries. */
const FINE_REACH = 2;

function unit(v: Float32Array, minEnergy: number): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  if (sum < minEnergy) return v.fill(0);
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/**
 * A gray thumbnail's detail (each pixel minus the mean of its 3×3 neighbourhood), unit length; all zeros when
 * the picture is flat.
 */
export function thumbnailVector(gray: Uint8Array, width: number): Float32Array {
  const height = gray.length / width;
  const out = new Float32Array(gray.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let n = 0;
      let acc = 0;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
          acc += gray[yy * width + xx]!;
          n++;
        }
      }
      out[y * width + x] = gray[y * width + x]! - acc / n;
    }
  }
  // Below ~1/2 grey level of detail per pixel the picture is flat: nothing to compare.
  return unit(out, gray.length / 4);
}

export function signatureFrame(gray: Uint8Array, width: number): SignatureFrame {
  const fine = thumbnailVector(gray, width);
  let max = 0;
  for (const v of fine) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 0;
  const detail = new Int8Array(fine.length);
  if (scale > 0) for (let i = 0; i < fine.length; i++) detail[i] = Math.round(fine[i]! / scale);
  return { detail, scale };
}

/** Frames of the core of [start, end): the outer `trim` fraction left out (never everything). */
export function coreFrames(start: number, end: number, trim = 0.1): [number, number] {
  const cut = Math.floor(trim * (end - start));
  return end - start - 2 * cut > 0 ? [start + cut, end - cut] : [start, end];
}

function detailDot(a: SignatureFrame, b: SignatureFrame): number {
  let s = 0;
  for (let i = 0; i < a.detail.length; i++) s += a.detail[i]! * b.detail[i]!;
  return s * a.scale * b.scale;
}

/** Mean of `dot` over s[i] against l[i + o] for every `step`-th i that overlaps; undefined when too little does. */
function meanAt(
  s: SignatureFrame[],
  l: SignatureFrame[],
  o: number,
  step: number,
  need: number,
  dot: (a: SignatureFrame, b: SignatureFrame) => number,
): number | undefined {
  const first = Math.max(0, -o);
  const last = Math.min(s.length, l.length - o);
  if (last - first < need) return undefined;
  let sum = 0;
  let n = 0;
  for (let i = first; i < last; i += step) {
    sum += dot(s[i]!, l[i + o]!);
    n++;
  }
  return sum / n;
}

/**
 * How alike two shots' detail is at their best alignment: every time offset is tried on a few frames spread over
 * the shorter shot, then the best one (± FINE_REACH frames) on every FINE_STEP-th frame.
 */
export function alignedSimilarity(a: ShotSignature, b: ShotSignature): number {
  const [s, l] = a.frames.length <= b.frames.length ? [a.frames, b.frames] : [b.frames, a.frames];
  const need = Math.max(1, Math.ceil(MIN_OVERLAP * s.length));
  const searchStep = Math.max(1, Math.floor(s.length / SEARCH_FRAMES));
  let bestOffset = 0;
  let bestSearch = Number.NEGATIVE_INFINITY;
  for (let o = need - s.length; o <= l.length - need; o++) {
    const c = meanAt(s, l, o, searchStep, need, detailDot);
    if (c !== undefined && c > bestSearch) [bestSearch, bestOffset] = [c, o];
  }
  let best = -1;
  for (let o = bestOffset - FINE_REACH; o <= bestOffset + FINE_REACH; o++) {
    const f = meanAt(s, l, o, FINE_STEP, need, detailDot);
    if (f !== undefined && f > best) best = f;
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

// Match cuts across any subset of titles, on demand: exact blocked scoring while the subset has at most
// `exactMaxShots` shots (25,000 by default), approximate beyond that. Two approximate methods:
//  - 'ivf' (default): an IVF self-join of the subset's matrices (ivf-join.ts), exact scores for the pairs
//    it finds, no index round trips;
//  - 'index': each shot's nearest neighbours within the subset from the vector index, merged into one top K
//    (one k-NN query per shot: fast with Qdrant's HNSW, slow with the embedded index; see the docs).
// Titles are processed in sorted order, so the answer does not depend on the order they were given in.
import { z } from 'zod';
import type { VectorMatrix } from '../vector/matrix.ts';
import type { VectorHit, VectorIndex, VectorQuery } from '../vector/vector-index.ts';
import { matchCutCacheKey, parseQuerySubject, querySubjectSchema } from './cache-key.ts';
import { type PairFilters, type PairFiltersInput, PairInputError } from './filters.ts';
import { type IvfOptions, ivfJoinPairs } from './ivf-join.ts';
import type { BlockKernel } from './kernel.ts';
import { type PairScoringResult, scorePairs } from './pairs.ts';
import { comparePairs, type Pair, TopKHeap } from './topk.ts';

export const DEFAULT_EXACT_MAX_SHOTS = 25_000;

/** A title's per-shot matrix for a flavor and the feature value it comes from. */
export interface TitleMatrix {
  matrix: VectorMatrix;
  /** e.g. `matchcut-repr:frame` */
  feature: string;
  version: number;
  /**
   * The title's video assets in the matrix's shot numbering (title-matrix.ts): the vector index stores each asset's
   * own shot numbers, so the 'index' method maps its hits through these. Without them the title is one asset.
   */
  assets?: readonly { asset: string; offset: number }[] | undefined;
}

export type LoadTitleMatrix = (titleId: string, flavor: string) => Promise<TitleMatrix>;

export interface MatchCutQuery {
  titles: string[];
  flavor: string;
  k: number;
  filters?: PairFiltersInput;
  /** 'auto' (default) picks by subset size; 'exact' and 'ann' force a method. */
  mode?: 'auto' | 'exact' | 'ann';
}

export interface MatchCutDeps {
  loadTitleMatrix: LoadTitleMatrix;
  /** Approximate method above `exactMaxShots` (and for mode 'ann'); default 'ivf'. */
  annMethod?: 'ivf' | 'index';
  /** IVF join tuning (partitions, nprobe …). */
  ivf?: IvfOptions;
  /** Needed by the 'index' method. */
  index?: VectorIndex;
  exactMaxShots?: number;
  /** Exact path: a kernel to reuse, kernel threads, tile size. */
  kernel?: BlockKernel;
  threads?: number;
  blockRows?: number;
  /** ANN path: neighbours asked per shot (default min(k, 32)) and shots per batch request. */
  perShotK?: number;
  queryBatch?: number;
  onProgress?: (p: { phase: 'load' | 'score' | 'ann'; done: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface MatchPair {
  title1: string;
  shot1: number;
  title2: string;
  shot2: number;
  score: number;
  /** Frame ranges [start, end) of the two shots. */
  frames1: [number, number];
  frames2: [number, number];
}

export interface MatchCutResult {
  pairs: MatchPair[];
  method: 'exact' | 'ann-ivf' | 'ann-index';
  shots: number;
  feature: string;
  version: number;
  /** Memo key of this answer (see matchCutCacheKey). */
  cacheKey: string;
  ms: number;
}

export const matchCutQuerySchema = querySubjectSchema
  .extend({ mode: z.enum(['auto', 'exact', 'ann']).default('auto') })
  .strict();

function parseQuery(q: MatchCutQuery) {
  return parseQuerySubject(matchCutQuerySchema, q);
}

interface Loaded {
  feature: string;
  version: number;
  dim: number;
  /** Per title: its shot table; its matrix while the subset may still be scored exactly. */
  shots: VectorMatrix['shots'][];
  matrices: (VectorMatrix | null)[];
  /** Per title: where each asset's shots start in its numbering (see TitleMatrix.assets). */
  assetOffsets: (ReadonlyMap<string, number> | undefined)[];
  total: number;
}

async function loadTitle(
  deps: MatchCutDeps,
  title: string,
  flavor: string,
  first?: TitleMatrix,
): Promise<TitleMatrix> {
  const tm = await deps.loadTitleMatrix(title, flavor);
  if (!tm?.matrix || tm.matrix.rows < 1)
    throw new PairInputError(`title ${title} has no ${flavor} shot vectors`);
  if (first && (tm.feature !== first.feature || tm.version !== first.version)) {
    throw new PairInputError(
      `titles disagree on the representation: ${title} has ${tm.feature}@${tm.version}, others ${first.feature}@${first.version}`,
    );
  }
  if (first && tm.matrix.dim !== first.matrix.dim) {
    throw new PairInputError(
      `dimension mismatch: ${title} has ${tm.matrix.dim}-d vectors, others ${first.matrix.dim}-d`,
    );
  }
  return tm;
}

/** Loads every title once, keeping the vectors only while the subset can still be scored exactly. */
async function loadAll(
  deps: MatchCutDeps,
  titles: string[],
  flavor: string,
  keepUpTo: number,
): Promise<Loaded> {
  let first: TitleMatrix | undefined;
  const out: Loaded = {
    feature: '',
    version: 0,
    dim: 0,
    shots: [],
    matrices: [],
    assetOffsets: [],
    total: 0,
  };
  for (const [i, title] of titles.entries()) {
    deps.signal?.throwIfAborted();
    const tm = await loadTitle(deps, title, flavor, first);
    first ??= tm;
    out.total += tm.matrix.rows;
    out.shots.push(tm.matrix.shots);
    out.assetOffsets.push(tm.assets && new Map(tm.assets.map((a) => [a.asset, a.offset])));
    out.matrices.push(out.total <= keepUpTo ? tm.matrix : null);
    if (out.total > keepUpTo) out.matrices.fill(null);
    deps.onProgress?.({ phase: 'load', done: i + 1, total: titles.length });
  }
  out.feature = first!.feature;
  out.version = first!.version;
  out.dim = first!.matrix.dim;
  return out;
}

const frames = (s: VectorMatrix['shots'][number]): [number, number] => [s.start, s.end];

async function scoreLoaded(
  q: ReturnType<typeof parseQuery>,
  loaded: Loaded,
  deps: MatchCutDeps,
  approximate: boolean,
): Promise<MatchPair[]> {
  const sources = q.titles.map((id, i) => ({ id, matrix: loaded.matrices[i]! }));
  const score = (options: Parameters<typeof scorePairs>[1]): Promise<PairScoringResult> =>
    approximate
      ? ivfJoinPairs(sources, { ...options, ...(deps.ivf ? { ivf: deps.ivf } : {}) })
      : scorePairs(sources, options);
  const { pairs } = await score({
    k: q.k,
    ...q.filters,
    ...(deps.kernel ? { kernel: deps.kernel } : {}),
    ...(deps.threads ? { threads: deps.threads } : {}),
    ...(deps.blockRows ? { blockRows: deps.blockRows } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    onProgress: (done, total) => deps.onProgress?.({ phase: 'score', done, total }),
  });
  const byId = new Map(sources.map((s) => [s.id, s.matrix]));
  return pairs.map((p) => ({
    title1: p.title1,
    shot1: p.shot1,
    title2: p.title2,
    shot2: p.shot2,
    score: p.score,
    frames1: frames(byId.get(p.title1)!.shots[p.row1]!),
    frames2: frames(byId.get(p.title2)!.shots[p.row2]!),
  }));
}

// A side of an ANN pair as one orderable number: title index (sorted order) × 2³² + shot index.
const SIDE = 2 ** 32;

/** Whether the filters drop a pair of two shots of one title (rows of that title's shot table). */
function excludedWithinTitle(
  f: PairFilters,
  a: VectorMatrix['shots'][number],
  b: VectorMatrix['shots'][number],
) {
  if (f.excludeSameTitle) return true;
  if (f.excludeSameGroup && a.group !== null && a.group === b.group) return true;
  return (
    f.excludeWithinFrames > 0 && Math.max(a.start, b.start) - Math.min(a.end, b.end) < f.excludeWithinFrames
  );
}

async function annThroughIndex(
  q: ReturnType<typeof parseQuery>,
  loaded: Loaded,
  deps: MatchCutDeps,
): Promise<MatchPair[]> {
  const index = deps.index;
  if (!index) throw new PairInputError(`the 'index' ANN method needs the vector index, and none was given`);
  const key = { feature: loaded.feature, version: loaded.version };
  const indexed = await index.count({ ...key, titleIds: q.titles });
  if (indexed < loaded.total) {
    throw new PairInputError(
      `the vector index holds ${indexed} of the subset's ${loaded.total} ${key.feature}@${key.version} vectors under these titles: ` +
        "sync the vectors outbox first; an asset shared by titles is indexed under the title it was computed for (use the 'ivf' method)",
    );
  }
  const titleIndex = new Map(q.titles.map((t, i) => [t, i]));
  const rowOfShot = loaded.shots.map((shots) => new Map(shots.map((s, r) => [s.shot, r])));
  const perShotK = Math.min(deps.perShotK ?? Math.min(q.k, 32), 10_000 - 1);
  const batch = deps.queryBatch ?? 512;
  const minScore = q.filters.minScore ?? Number.NEGATIVE_INFINITY;
  // Each pair can be found from both of its sides (with scores equal up to rounding): keep 2K, dedupe after.
  const heap = new TopKHeap(Math.min(2 * q.k, 200_000));
  let done = 0;
  for (const [ti, title] of q.titles.entries()) {
    const m = loaded.matrices[ti] ?? (await loadTitle(deps, title, q.flavor)).matrix;
    for (let r0 = 0; r0 < m.rows; r0 += batch) {
      deps.signal?.throwIfAborted();
      const rows = Math.min(batch, m.rows - r0);
      const queries: VectorQuery[] = Array.from({ length: rows }, (_, n) => ({
        ...key,
        vector: m.data.subarray((r0 + n) * m.dim, (r0 + n + 1) * m.dim),
        k: perShotK + 1,
        titleIds: q.titles,
      }));
      const results: VectorHit[][] = await index.queryBatch(queries);
      results.forEach((hits, n) => {
        const qShot = m.shots[r0 + n]!;
        const qSide = ti * SIDE + qShot.shot;
        for (const hit of hits) {
          const tj = hit.titleId === null ? undefined : titleIndex.get(hit.titleId);
          if (tj === undefined || hit.score < minScore) continue;
          const offsets = loaded.assetOffsets[tj];
          const offset = offsets ? offsets.get(hit.entityKey) : 0;
          // A point of an asset or a shot the title no longer has (an index not yet synced) cannot be placed.
          if (offset === undefined) continue;
          const hShot = offset + hit.shot;
          const hr = rowOfShot[tj]!.get(hShot);
          if (hr === undefined) continue;
          const hSide = tj * SIDE + hShot;
          if (hSide === qSide) continue;
          if (tj === ti && excludedWithinTitle(q.filters, qShot, loaded.shots[ti]![hr]!)) continue;
          heap.offer(hit.score, Math.min(qSide, hSide), Math.max(qSide, hSide));
        }
      });
      done += rows;
      deps.onProgress?.({ phase: 'ann', done, total: loaded.total });
    }
  }
  const best = new Map<string, Pair>();
  for (const p of heap.sorted()) {
    const id = `${p.i}:${p.j}`;
    if (!best.has(id)) best.set(id, p);
  }
  return [...best.values()]
    .sort(comparePairs)
    .slice(0, q.k)
    .map((p) => {
      const [t1, s1, t2, s2] = [Math.floor(p.i / SIDE), p.i % SIDE, Math.floor(p.j / SIDE), p.j % SIDE];
      const shot1 = loaded.shots[t1]![rowOfShot[t1]!.get(s1)!]!;
      const shot2 = loaded.shots[t2]![rowOfShot[t2]!.get(s2)!]!;
      return {
        title1: q.titles[t1]!,
        shot1: s1,
        title2: q.titles[t2]!,
        shot2: s2,
        score: p.score,
        frames1: frames(shot1),
        frames2: frames(shot2),
      };
    });
}

/** The k best match-cut pairs over the titles, sorted by score (ties: title order, then shot order). */
export async function matchCutQuery(query: MatchCutQuery, deps: MatchCutDeps): Promise<MatchCutResult> {
  const t0 = performance.now();
  const q = parseQuery(query);
  const limit = deps.exactMaxShots ?? DEFAULT_EXACT_MAX_SHOTS;
  const annMethod = deps.annMethod ?? 'ivf';
  // The index method reads one title at a time; the others score matrices held in memory.
  const keep =
    annMethod === 'ivf' || q.mode === 'exact' ? Number.POSITIVE_INFINITY : q.mode === 'ann' ? 0 : limit;
  const loaded = await loadAll(deps, q.titles, q.flavor, keep);
  const exact = q.mode === 'exact' || (q.mode === 'auto' && loaded.total <= limit);
  const method = exact ? 'exact' : annMethod === 'ivf' ? 'ann-ivf' : 'ann-index';
  const pairs =
    method === 'ann-index'
      ? await annThroughIndex(q, loaded, deps)
      : await scoreLoaded(q, loaded, deps, method === 'ann-ivf');
  return {
    pairs,
    method,
    shots: loaded.total,
    feature: loaded.feature,
    version: loaded.version,
    cacheKey: matchCutCacheKey({
      titles: q.titles,
      flavor: q.flavor,
      k: q.k,
      filters: q.filters,
      featureVersions: { [loaded.feature]: loaded.version },
    }),
    ms: performance.now() - t0,
  };
}

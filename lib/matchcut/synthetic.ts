// Seeded synthetic shot vectors for tests and benchmarks. Clustered like real shot embeddings (recurring
// compositions and locations, near-duplicate shots), not uniform noise, so that nearest neighbours are
// meaningful and ANN recall can be measured honestly.
import { createVectorMatrix, type ShotRow, type VectorMatrix } from '../vector/matrix.ts';
import { gaussian, seededRandom } from './random.ts';

export { gaussian, seededRandom } from './random.ts';

export interface ClusteredCorpus {
  dim: number;
  /** Cluster centres shared by every title (recurring looks across a catalogue). */
  centers: Float32Array[];
  /** Clusters one title draws from. */
  clustersPerTitle: number;
  /**
   * Mean spread of a shot around its centre, relative to the centre's length (1 = as far as the centre);
   * each cluster gets 0.6–1.4 × this, so some looks recur tightly and others loosely.
   */
  spread: number;
  /** Per-cluster spreads (derived from `spread`). */
  spreads: number[];
  /** Fraction of shots that re-use an earlier shot of the title with a little noise (near-duplicates). */
  duplicateRate: number;
  seed: number;
}

export function clusteredCorpus(
  options: Partial<ClusteredCorpus> & { dim: number; clusters: number },
): ClusteredCorpus {
  const seed = options.seed ?? 1;
  const g = gaussian(seededRandom(seed));
  const rand = seededRandom(seed + 1);
  const spread = options.spread ?? 0.9;
  const centers = Array.from({ length: options.clusters }, () =>
    Float32Array.from({ length: options.dim }, g),
  );
  return {
    dim: options.dim,
    centers,
    clustersPerTitle: options.clustersPerTitle ?? 40,
    spread,
    spreads: centers.map(() => spread * (0.6 + 0.8 * rand())),
    duplicateRate: options.duplicateRate ?? 0.02,
    seed,
  };
}

/** Title `t` of the corpus: `shots` L2-normalized rows, shot i spans frames [48i, 48i + 48). */
export function syntheticTitle(corpus: ClusteredCorpus, t: number, shots: number): VectorMatrix {
  const { dim, centers } = corpus;
  const rand = seededRandom(corpus.seed * 7919 + t * 104_729 + 17);
  const g = gaussian(rand);
  const own = Array.from({ length: corpus.clustersPerTitle }, () => Math.floor(rand() * centers.length));
  const data = new Float32Array(shots * dim);
  for (let s = 0; s < shots; s++) {
    const row = data.subarray(s * dim, (s + 1) * dim);
    if (s > 0 && rand() < corpus.duplicateRate) {
      const src = Math.floor(rand() * s);
      for (let c = 0; c < dim; c++) row[c] = data[src * dim + c]! + (g() * 0.02) / Math.sqrt(dim);
      continue;
    }
    const cluster = own[Math.floor(rand() * own.length)]!;
    const center = centers[cluster]!;
    const noise = corpus.spreads[cluster]! / Math.sqrt(dim);
    const scale = Math.sqrt(dim);
    for (let c = 0; c < dim; c++) row[c] = center[c]! / scale + g() * noise;
  }
  const rows: ShotRow[] = Array.from({ length: shots }, (_, s) => ({
    shot: s,
    start: s * 48,
    end: s * 48 + 48,
    group: null,
  }));
  return createVectorMatrix({ dim, rows: data, shots: rows, info: { synthetic: true, title: t } });
}

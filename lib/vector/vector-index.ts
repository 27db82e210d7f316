// The vector index interface shared by the embedded backend (LanceDB on disk, the default) and Qdrant.
// A point is one shot vector of one feature value: (feature, version, entity, shot) → vector, with the
// title id for filtering and the value id so that a newer value of the same entity replaces an older one.
import crypto from 'node:crypto';
import { z } from 'zod';

export interface VectorKey {
  feature: string;
  version: number;
}

export interface EntityVectors extends VectorKey {
  entityKey: string;
  titleId: string | null;
  /** Id of the feature value the vectors come from (a Postgres bigint, as a string). */
  valueId: string;
  dim: number;
  /** rows × dim float32, row-major, L2-normalized. */
  data: Float32Array;
  /** The shot index of every row. */
  shots: number[];
}

export interface VectorQuery extends VectorKey {
  vector: Float32Array | number[];
  k: number;
  /** Restrict hits to these titles. */
  titleIds?: string[];
}

export interface VectorHit {
  id: string;
  entityKey: string;
  titleId: string | null;
  shot: number;
  /** Cosine similarity. */
  score: number;
}

export interface UpsertResult {
  points: number;
  /** The index already holds a newer value of this entity; nothing was written. */
  stale: boolean;
}

export interface VectorIndex {
  readonly backend: 'embedded' | 'qdrant';
  /**
   * Writes the entity's points (idempotent: the same value written twice leaves the same state) and removes
   * its points from older values. A value older than the one stored is ignored.
   */
  upsertEntity(v: EntityVectors): Promise<UpsertResult>;
  query(q: VectorQuery): Promise<VectorHit[]>;
  /** Many queries at once; results in the same order. */
  queryBatch(queries: readonly VectorQuery[]): Promise<VectorHit[][]>;
  count(key: VectorKey & { titleIds?: string[] }): Promise<number>;
  /** Builds or refreshes the ANN structures for a feature version (a no-op where the backend does it itself). */
  optimize(key: VectorKey): Promise<void>;
  close(): Promise<void>;
}

export class VectorIndexError extends Error {
  override name = 'VectorIndexError';
}

/** Deterministic point id (a UUID, as Qdrant requires) of (feature, version, entity, shot). */
export function pointId(feature: string, version: number, entityKey: string, shot: number): string {
  const h = crypto.createHash('sha256').update(`${feature}\n${version}\n${entityKey}\n${shot}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 layout (name-based, SHA)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** A short, stable, backend-safe collection name for a feature version. */
export function collectionName(key: VectorKey): string {
  const safe = key.feature.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  const tag = crypto.createHash('sha256').update(key.feature).digest('hex').slice(0, 8);
  return `mm_${safe}_v${key.version}_${tag}`;
}

const keySchema = z.object({
  feature: z.string().min(1, 'feature is required'),
  version: z.number().int().min(0),
});

const querySchema = keySchema.extend({
  k: z.number().int().min(1, 'k must be at least 1').max(10_000, 'k must be at most 10000'),
  titleIds: z.array(z.string().min(1)).optional(),
});

function fail(what: string, err: z.ZodError): never {
  const issue = err.issues[0]!;
  throw new VectorIndexError(`invalid ${what}: ${issue.path.join('.') || 'value'}: ${issue.message}`);
}

export function validateQuery(q: VectorQuery, dim?: number): void {
  const parsed = querySchema.safeParse(q);
  if (!parsed.success) fail('vector query', parsed.error);
  if (dim !== undefined && q.vector.length !== dim) {
    throw new VectorIndexError(
      `query vector has ${q.vector.length} values; ${q.feature}@${q.version} has ${dim}-d vectors`,
    );
  }
  for (const v of q.vector)
    if (!Number.isFinite(v)) throw new VectorIndexError('query vector has a non-finite value');
}

export function validateEntityVectors(v: EntityVectors): void {
  const parsed = keySchema
    .extend({
      entityKey: z.string().min(1),
      titleId: z.string().min(1).nullable(),
      valueId: z.string().regex(/^\d+$/, 'must be a decimal value id'),
      dim: z.number().int().min(1).max(65_536),
    })
    .safeParse(v);
  if (!parsed.success) fail('entity vectors', parsed.error);
  if (v.data.length !== v.shots.length * v.dim) {
    throw new VectorIndexError(
      `entity ${v.entityKey}: ${v.data.length} values for ${v.shots.length} rows of ${v.dim}`,
    );
  }
  if (new Set(v.shots).size !== v.shots.length)
    throw new VectorIndexError(`entity ${v.entityKey} repeats a shot index`);
}

/** Groups queries that share feature, version, k and title filter, remembering their positions. */
export function groupQueries(
  queries: readonly VectorQuery[],
): Map<string, { query: VectorQuery; at: number[] }> {
  const groups = new Map<string, { query: VectorQuery; at: number[] }>();
  queries.forEach((q, at) => {
    const key = JSON.stringify([q.feature, q.version, q.k, q.titleIds ? [...q.titleIds].sort() : null]);
    const g = groups.get(key);
    if (g) g.at.push(at);
    else groups.set(key, { query: q, at: [at] });
  });
  return groups;
}

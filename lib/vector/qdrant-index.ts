// The scale-out vector index: Qdrant through its REST client. One collection per feature version (cosine,
// HNSW built by the server), payload indexes on the filtered fields.
import { QdrantClient } from '@qdrant/js-client-rest';
import {
  collectionName,
  type EntityVectors,
  groupQueries,
  pointId,
  type UpsertResult,
  type VectorHit,
  type VectorIndex,
  VectorIndexError,
  type VectorKey,
  type VectorQuery,
  validateEntityVectors,
  validateQuery,
} from './vector-index.ts';

export interface QdrantIndexOptions {
  url: string;
  apiKey?: string;
  /** Points per upsert request and queries per batch request. */
  batchSize?: number;
  /** HNSW `ef` at query time (recall against speed); default the server's. */
  ef?: number;
}

type Payload = { entity_key: string; title_id: string | null; shot: number; value_id: number };

export class QdrantVectorIndex implements VectorIndex {
  readonly backend = 'qdrant' as const;
  private readonly client: QdrantClient;
  private readonly dims = new Map<string, Promise<number | null>>();
  private readonly batchSize: number;

  constructor(private readonly opts: QdrantIndexOptions) {
    this.client = new QdrantClient({
      url: opts.url,
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      checkCompatibility: false,
    });
    this.batchSize = opts.batchSize ?? 256;
  }

  /** Dimension of the collection of a feature version; created (with `dim`) when asked to. */
  private collection(key: VectorKey, createWithDim?: number): Promise<number | null> {
    const name = collectionName(key);
    let known = this.dims.get(name);
    if (!known) {
      known = this.describe(name, createWithDim);
      this.dims.set(name, known);
      known.then(
        (d) => d === null && this.dims.delete(name),
        () => this.dims.delete(name),
      );
    }
    return known;
  }

  private async describe(name: string, createWithDim?: number): Promise<number | null> {
    if (!(await this.client.collectionExists(name)).exists) {
      if (createWithDim === undefined) return null;
      try {
        await this.client.createCollection(name, { vectors: { size: createWithDim, distance: 'Cosine' } });
      } catch (err) {
        // Another process created it first.
        if (!(await this.client.collectionExists(name)).exists) throw err;
      }
      for (const [field, schema] of [
        ['title_id', 'keyword'],
        ['entity_key', 'keyword'],
        ['value_id', 'integer'],
      ] as const) {
        await this.client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true });
      }
    }
    const info = await this.client.getCollection(name);
    const vectors = info.config.params.vectors;
    const size = vectors && 'size' in vectors ? vectors.size : undefined;
    if (typeof size !== 'number')
      throw new VectorIndexError(`collection ${name} has no single unnamed vector`);
    return size;
  }

  async upsertEntity(v: EntityVectors): Promise<UpsertResult> {
    validateEntityVectors(v);
    const name = collectionName(v);
    const dim = await this.collection(v, v.dim);
    if (dim !== v.dim) {
      throw new VectorIndexError(
        `${v.feature}@${v.version} holds ${dim}-d vectors; got ${v.dim}-d for ${v.entityKey}`,
      );
    }
    const valueId = Number(v.valueId);
    const newest = await this.client.scroll(name, {
      filter: { must: [{ key: 'entity_key', match: { value: v.entityKey } }] },
      order_by: { key: 'value_id', direction: 'desc' },
      limit: 1,
      with_payload: ['value_id'],
    });
    const stored = newest.points[0]?.payload?.value_id;
    if (typeof stored === 'number' && stored > valueId) return { points: 0, stale: true };
    for (let o = 0; o < v.shots.length; o += this.batchSize) {
      const points = v.shots.slice(o, o + this.batchSize).map((shot, n) => {
        const r = o + n;
        const payload: Payload = { entity_key: v.entityKey, title_id: v.titleId, shot, value_id: valueId };
        return {
          id: pointId(v.feature, v.version, v.entityKey, shot),
          vector: Array.from(v.data.subarray(r * v.dim, (r + 1) * v.dim)),
          payload,
        };
      });
      await this.client.upsert(name, { wait: true, points });
    }
    await this.client.delete(name, {
      wait: true,
      filter: {
        must: [
          { key: 'entity_key', match: { value: v.entityKey } },
          { key: 'value_id', range: { lt: valueId } },
        ],
      },
    });
    return { points: v.shots.length, stale: false };
  }

  async query(q: VectorQuery): Promise<VectorHit[]> {
    return (await this.queryBatch([q]))[0]!;
  }

  async queryBatch(queries: readonly VectorQuery[]): Promise<VectorHit[][]> {
    const out: VectorHit[][] = queries.map(() => []);
    for (const { query, at } of groupQueries(queries).values()) {
      const dim = await this.collection(query);
      if (dim === null) continue;
      for (const i of at) validateQuery(queries[i]!, dim);
      if (query.titleIds?.length === 0) continue;
      const filter = query.titleIds
        ? { must: [{ key: 'title_id', match: { any: query.titleIds } }] }
        : undefined;
      for (let o = 0; o < at.length; o += this.batchSize) {
        const chunk = at.slice(o, o + this.batchSize);
        const responses = await this.client.queryBatch(collectionName(query), {
          searches: chunk.map((i) => ({
            query: Array.from(queries[i]!.vector),
            limit: query.k,
            with_payload: true,
            ...(filter ? { filter } : {}),
            ...(this.opts.ef ? { params: { hnsw_ef: this.opts.ef } } : {}),
          })),
        });
        chunk.forEach((i, n) => {
          out[i] = (responses[n]?.points ?? []).map((p) => {
            const payload = p.payload as Payload;
            return {
              id: String(p.id),
              entityKey: payload.entity_key,
              titleId: payload.title_id,
              shot: payload.shot,
              score: p.score,
            };
          });
        });
      }
    }
    return out;
  }

  async count(key: VectorKey & { titleIds?: string[] }): Promise<number> {
    if ((await this.collection(key)) === null) return 0;
    if (key.titleIds?.length === 0) return 0;
    const filter = key.titleIds ? { must: [{ key: 'title_id', match: { any: key.titleIds } }] } : undefined;
    return (await this.client.count(collectionName(key), { exact: true, ...(filter ? { filter } : {}) }))
      .count;
  }

  /** Qdrant builds and maintains its HNSW graph itself. */
  async optimize(_key: VectorKey): Promise<void> {}

  async close(): Promise<void> {
    this.dims.clear();
  }
}

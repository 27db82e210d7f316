// The embedded vector index: LanceDB tables on local disk, one table per feature version (its vectors have
// one dimension). Upserts are merge-inserts on the deterministic point id; queries are cosine k-NN with a
// SQL prefilter on the title id. Small tables are searched exactly; `optimize` adds an IVF index once a
// table is large enough, plus scalar indexes for the filters.
import fs from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import { arrow } from './arrow.ts';
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

export interface LanceIndexOptions {
  /** Directory of the LanceDB database. */
  dir: string;
  /** Rows a table needs before `optimize` builds an IVF index; smaller tables are searched exactly. */
  annMinRows?: number;
  /** IVF partitions probed per query (recall against speed). */
  nprobes?: number;
  /** Query vectors sent in one multi-vector search. */
  batchSize?: number;
  /**
   * How stale a read may be about writes of other processes, in seconds. 0 (default) checks on every read,
   * which the cross-process newest-value check needs; larger values trade that for query latency.
   */
  readConsistencySeconds?: number;
}

const sql = (s: string) => `'${s.replaceAll("'", "''")}'`;

function schemaFor(dim: number): Arrow.Schema {
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('feature', new arrow.Utf8(), false),
    new arrow.Field('version', new arrow.Int32(), false),
    new arrow.Field('entity_key', new arrow.Utf8(), false),
    new arrow.Field('title_id', new arrow.Utf8(), true),
    new arrow.Field('shot', new arrow.Int32(), false),
    new arrow.Field('value_id', new arrow.Int64(), false),
    new arrow.Field(
      'vector',
      new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)),
      false,
    ),
  ]);
}

/** One record batch built column by column (no per-row JS objects for the vectors). */
function toArrowTable(v: EntityVectors, schema: Arrow.Schema): Arrow.Table {
  const n = v.shots.length;
  const fields = schema.fields;
  const strings = (values: (string | null)[]) => arrow.vectorFromArray(values, new arrow.Utf8()).data[0]!;
  const children = [
    strings(v.shots.map((s) => pointId(v.feature, v.version, v.entityKey, s))),
    strings(new Array(n).fill(v.feature)),
    arrow.makeData({ type: new arrow.Int32(), length: n, data: new Int32Array(n).fill(v.version) }),
    strings(new Array(n).fill(v.entityKey)),
    strings(new Array(n).fill(v.titleId)),
    arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from(v.shots) }),
    arrow.makeData({
      type: new arrow.Int64(),
      length: n,
      data: new BigInt64Array(n).fill(BigInt(v.valueId)),
    }),
    arrow.makeData({
      type: fields[7]!.type as Arrow.FixedSizeList<Arrow.Float32>,
      length: n,
      nullCount: 0,
      child: arrow.makeData({ type: new arrow.Float32(), length: n * v.dim, data: v.data }),
    }),
  ];
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, struct));
}

export class LanceVectorIndex implements VectorIndex {
  readonly backend = 'embedded' as const;
  private readonly tables = new Map<string, Promise<lancedb.Table | null>>();

  private constructor(
    private readonly db: lancedb.Connection,
    private readonly opts: Required<Omit<LanceIndexOptions, 'dir' | 'readConsistencySeconds'>>,
  ) {}

  static async open(options: LanceIndexOptions): Promise<LanceVectorIndex> {
    fs.mkdirSync(options.dir, { recursive: true });
    const db = await lancedb.connect(options.dir, {
      readConsistencyInterval: options.readConsistencySeconds ?? 0,
    });
    return new LanceVectorIndex(db, {
      annMinRows: options.annMinRows ?? 50_000,
      nprobes: options.nprobes ?? 24,
      batchSize: options.batchSize ?? 256,
    });
  }

  /** The table of a feature version; created (with `dim`) when asked to, null when it does not exist. */
  private async table(key: VectorKey, createWithDim?: number): Promise<lancedb.Table | null> {
    const name = collectionName(key);
    const cached = await this.tables.get(name);
    if (cached) return cached;
    const opening = (async () => {
      if ((await this.db.tableNames()).includes(name)) return this.db.openTable(name);
      if (createWithDim === undefined) return null;
      return this.db.createEmptyTable(name, schemaFor(createWithDim), { mode: 'create', existOk: true });
    })();
    this.tables.set(name, opening);
    try {
      const t = await opening;
      if (!t) this.tables.delete(name);
      return t;
    } catch (err) {
      this.tables.delete(name);
      throw err;
    }
  }

  private async dimOf(t: lancedb.Table): Promise<number> {
    const field = (await t.schema()).fields.find((f) => f.name === 'vector');
    if (!field) throw new VectorIndexError('a vector table without a vector column');
    return (field.type as Arrow.FixedSizeList).listSize;
  }

  async upsertEntity(v: EntityVectors): Promise<UpsertResult> {
    validateEntityVectors(v);
    const t = (await this.table(v, v.dim))!;
    const dim = await this.dimOf(t);
    if (dim !== v.dim) {
      throw new VectorIndexError(
        `${v.feature}@${v.version} holds ${dim}-d vectors; got ${v.dim}-d for ${v.entityKey}`,
      );
    }
    const newest = await this.newestValueId(t, v.entityKey);
    const valueId = BigInt(v.valueId);
    if (newest !== null && newest > valueId) return { points: 0, stale: true };
    // A value with no vectors (a title of blank shots) only retires the entity's older ones.
    if (v.shots.length > 0) {
      await t
        .mergeInsert('id')
        .whenMatchedUpdateAll({ where: 'target.value_id <= source.value_id' })
        .whenNotMatchedInsertAll()
        .execute(toArrowTable(v, schemaFor(v.dim)));
    }
    await t.delete(`entity_key = ${sql(v.entityKey)} AND value_id < ${valueId}`);
    return { points: v.shots.length, stale: false };
  }

  private async newestValueId(t: lancedb.Table, entityKey: string): Promise<bigint | null> {
    const rows = await t
      .query()
      .where(`entity_key = ${sql(entityKey)}`)
      .select(['value_id'])
      .toArrow();
    let newest: bigint | null = null;
    const col = rows.getChild('value_id');
    for (let r = 0; r < rows.numRows; r++) {
      const id = BigInt(col!.get(r) as bigint | number);
      if (newest === null || id > newest) newest = id;
    }
    return newest;
  }

  async query(q: VectorQuery): Promise<VectorHit[]> {
    return (await this.queryBatch([q]))[0]!;
  }

  async queryBatch(queries: readonly VectorQuery[]): Promise<VectorHit[][]> {
    const out: VectorHit[][] = queries.map(() => []);
    for (const { query, at } of groupQueries(queries).values()) {
      const t = await this.table(query);
      if (!t) continue;
      const dim = await this.dimOf(t);
      for (const i of at) validateQuery(queries[i]!, dim);
      for (let o = 0; o < at.length; o += this.opts.batchSize) {
        const chunk = at.slice(o, o + this.opts.batchSize);
        const hits = await this.search(
          t,
          query,
          chunk.map((i) => queries[i]!.vector),
        );
        chunk.forEach((i, n) => {
          out[i] = hits[n]!;
        });
      }
    }
    return out;
  }

  private async search(
    t: lancedb.Table,
    q: VectorQuery,
    vectors: (Float32Array | number[])[],
  ): Promise<VectorHit[][]> {
    let builder = t.query().nearestTo(Array.from(vectors[0]!));
    for (const v of vectors.slice(1)) builder = builder.addQueryVector(Array.from(v));
    builder = builder.distanceType('cosine').limit(q.k).nprobes(this.opts.nprobes);
    if (q.titleIds) {
      if (q.titleIds.length === 0) return vectors.map(() => []);
      builder = builder.where(`title_id IN (${q.titleIds.map(sql).join(', ')})`);
    }
    const table = await builder.select(['id', 'entity_key', 'title_id', 'shot', '_distance']).toArrow();
    const hits: VectorHit[][] = vectors.map(() => []);
    const col = (name: string) => table.getChild(name);
    const [qi, id, entity, title, shot, dist] = [
      'query_index',
      'id',
      'entity_key',
      'title_id',
      'shot',
      '_distance',
    ].map(col);
    for (let r = 0; r < table.numRows; r++) {
      const which = qi ? Number(qi.get(r)) : 0;
      hits[which]!.push({
        id: id!.get(r) as string,
        entityKey: entity!.get(r) as string,
        titleId: (title!.get(r) as string | null) ?? null,
        shot: shot!.get(r) as number,
        score: 1 - (dist!.get(r) as number),
      });
    }
    for (const h of hits) h.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    return hits;
  }

  async count(key: VectorKey & { titleIds?: string[] }): Promise<number> {
    const t = await this.table(key);
    if (!t) return 0;
    if (!key.titleIds) return t.countRows();
    if (key.titleIds.length === 0) return 0;
    return t.countRows(`title_id IN (${key.titleIds.map(sql).join(', ')})`);
  }

  async optimize(key: VectorKey): Promise<void> {
    const t = await this.table(key);
    if (!t) return;
    await t.optimize();
    const have = new Set((await t.listIndices()).flatMap((i) => i.columns));
    if (!have.has('title_id')) await t.createIndex('title_id', { config: lancedb.Index.bitmap() });
    if (!have.has('entity_key')) await t.createIndex('entity_key', { config: lancedb.Index.btree() });
    const rows = await t.countRows();
    if (!have.has('vector') && rows >= this.opts.annMinRows) {
      const numPartitions = Math.max(16, Math.round(Math.sqrt(rows)));
      await t.createIndex('vector', {
        config: lancedb.Index.ivfFlat({ numPartitions, distanceType: 'cosine' }),
      });
    }
  }

  async close(): Promise<void> {
    this.tables.clear();
    this.db.close();
  }
}

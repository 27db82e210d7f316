// Annotations in Postgres: runs written in batches and published by one atomic switch, and the query DSL
// compiled to parameterized SQL over the indexes of the annotations migration. `pg` directly (Prisma owns the
// schema only): multi-row INSERTs from unnest() arrays, keyset pages, one statement per page.
import pg from 'pg';
import {
  type Annotation,
  type AnnotationInput,
  type EntityRef,
  type EntityType,
  type NormalizedAnnotation,
  normalizeAnnotations,
  type RunInput,
  type StoredAnnotation,
} from './annotation.ts';
import { SearchQueryError } from './errors.ts';
import { conditionSql } from './filter.ts';
import {
  afterSql,
  decodeCursor,
  encodeCursor,
  GROUP_ORDER_KEYS,
  groupKey,
  orderBySql,
  Params,
  sortKeys,
} from './keys.ts';
import { cosine, finishInMemory, type Scored, type SearchResult, toHit, topK } from './pipeline.ts';
import { defaultLimits, parseQuery, queryFingerprint, type SearchLimits, type SearchQuery } from './query.ts';
import { type AnnotationSchemaRegistry, defaultSchemaRegistry } from './schemas.ts';

export interface RunInfo {
  id: string;
  producer: string;
  producerVersion: number;
  entity: EntityRef;
  attempt: number;
  titleId: string | null;
  valueId: string | null;
  count: number;
  createdAt: Date;
  publishedAt: Date | null;
}

export interface WriteRunResult {
  runId: string;
  /** False when this (producer, entity, producerVersion, attempt) run already existed: nothing was written. */
  created: boolean;
  /** Whether the run is now the one readers see (false when a newer run was already published). */
  current: boolean;
  count: number;
  /** Ids of the written annotations, in input order (empty when not created). */
  ids: string[];
}

export interface AnnotationStoreOptions {
  registry?: AnnotationSchemaRegistry;
  limits?: Partial<SearchLimits>;
  /** Rows per INSERT statement. */
  batchSize?: number;
}

const COLUMNS =
  'a.id, a.run_id, a.type, a.schema_version, a.entity_type, a.entity_id, a.title_id, a.producer, a.value_id, ' +
  'a.frame_start, a.frame_end, a.time_start, a.time_end, a.x, a.y, a.w, a.h, a.polygon, a.payload';
const VISIBLE = 'annotations a JOIN current_runs c ON c.run_id = a.run_id';

interface Row {
  id: string;
  run_id: string;
  type: string;
  schema_version: number;
  entity_type: string;
  entity_id: string;
  title_id: string | null;
  producer: string;
  value_id: string | null;
  frame_start: number;
  frame_end: number;
  time_start: number;
  time_end: number;
  x: number | null;
  y: number | null;
  w: number | null;
  h: number | null;
  polygon: [number, number][] | null;
  payload: unknown;
  vec?: Buffer | null;
}

/** Parses `array_send(real[])`: a header, then per element a length and a big-endian float4. */
export function decodeFloat4Array(buf: Buffer): Float32Array {
  const ndim = buf.readInt32BE(0);
  if (ndim === 0) return new Float32Array(0);
  let n = 1;
  for (let d = 0; d < ndim; d++) n *= buf.readInt32BE(12 + d * 8);
  const out = new Float32Array(n);
  let off = 12 + ndim * 8;
  for (let i = 0; i < n; i++) {
    const len = buf.readInt32BE(off);
    off += 4;
    if (len !== 4) throw new Error('unexpected element in a real[] vector');
    out[i] = buf.readFloatBE(off);
    off += 4;
  }
  return out;
}

function toAnnotation(r: Row): StoredAnnotation {
  return {
    id: r.id,
    runId: r.run_id,
    type: r.type,
    schemaVersion: r.schema_version,
    entity: { type: r.entity_type as EntityType, id: r.entity_id },
    titleId: r.title_id,
    producer: r.producer,
    valueId: r.value_id,
    temporal: { start: r.frame_start, end: r.frame_end, startSec: r.time_start, endSec: r.time_end },
    spatial:
      r.x === null
        ? null
        : { x: r.x, y: r.y!, w: r.w!, h: r.h!, ...(r.polygon ? { polygon: r.polygon } : {}) },
    payload: r.payload,
    vector: r.vec ? Array.from(decodeFloat4Array(r.vec)) : null,
  };
}

function toRunInfo(r: Record<string, unknown>): RunInfo {
  return {
    id: String(r.id),
    producer: r.producer as string,
    producerVersion: r.producer_version as number,
    entity: { type: r.entity_type as EntityType, id: r.entity_id as string },
    attempt: r.attempt as number,
    titleId: (r.title_id as string | null) ?? null,
    valueId: r.value_id === null ? null : String(r.value_id),
    count: r.count as number,
    createdAt: r.created_at as Date,
    publishedAt: (r.published_at as Date | null) ?? null,
  };
}

const float4Text = (v: Float32Array) => {
  let s = '{';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + v[i]!.toPrecision(9);
  return `${s}}`;
};

function translatePgError(err: unknown, limits: SearchLimits): never {
  const e = err as { code?: string; message?: string };
  if (e.code === '57014')
    throw new SearchQueryError('timeout', [
      { path: '', message: `the query ran past its statement timeout (${limits.statementTimeoutMs} ms)` },
    ]);
  throw err;
}

export class AnnotationStore {
  readonly limits: SearchLimits;
  readonly registry: AnnotationSchemaRegistry;
  readonly #batchSize: number;
  readonly #ownsPool: boolean;

  /** Uses `pool` (the caller closes it) or opens one on `databaseUrl` with the statement timeout set. */
  constructor(
    readonly pool: pg.Pool,
    options: AnnotationStoreOptions & { ownsPool?: boolean } = {},
  ) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.registry = options.registry ?? defaultSchemaRegistry();
    this.#batchSize = options.batchSize ?? 2000;
    this.#ownsPool = options.ownsPool ?? false;
  }

  static connect(
    databaseUrl: string,
    options: AnnotationStoreOptions & { poolSize?: number } = {},
  ): AnnotationStore {
    const limits = { ...defaultLimits, ...options.limits };
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: options.poolSize ?? 10,
      statement_timeout: limits.statementTimeoutMs,
    });
    pool.on('error', () => undefined); // an idle client's connection dropped: the pool replaces it
    return new AnnotationStore(pool, { ...options, ownsPool: true });
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.pool.end();
  }

  // ---- writing ---------------------------------------------------------------------------------------------

  /**
   * Writes a run's annotations and publishes the run, in one transaction: readers keep seeing the previous run's
   * complete set until the commit, then see exactly this one. Validates every annotation first (payload
   * against its schema; AnnotationValidationError lists every issue). Idempotent per (producer, entity,
   * producerVersion, attempt): writing an existing run returns it without writing. The pointer moves only
   * forward: a run older (by producerVersion, attempt) than the current one is stored but not made current.
   */
  async writeRun(run: RunInput, annotations: readonly AnnotationInput[]): Promise<WriteRunResult> {
    const rows = normalizeAnnotations(this.registry, run, annotations);
    const valueId = run.valueId === undefined || run.valueId === null ? null : String(run.valueId);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO annotation_runs (producer, producer_version, entity_type, entity_id, attempt, title_id, value_id, count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (producer, entity_type, entity_id, producer_version, attempt) DO NOTHING
         RETURNING id`,
        [
          run.producer,
          run.producerVersion,
          run.entity.type,
          run.entity.id,
          run.attempt,
          run.titleId ?? null,
          valueId,
          rows.length,
        ],
      );
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK');
        const existing = await this.pool.query(
          `SELECT r.id, r.count, (c.run_id IS NOT NULL) AS current FROM annotation_runs r
           LEFT JOIN current_runs c ON c.run_id = r.id
           WHERE r.producer = $1 AND r.entity_type = $2 AND r.entity_id = $3 AND r.producer_version = $4 AND r.attempt = $5`,
          [run.producer, run.entity.type, run.entity.id, run.producerVersion, run.attempt],
        );
        const r = existing.rows[0]!;
        return { runId: String(r.id), created: false, current: r.current, count: r.count, ids: [] };
      }
      const runId = inserted.rows[0]!.id;
      const ids: string[] = [];
      for (let i = 0; i < rows.length; i += this.#batchSize) {
        ids.push(
          ...(await this.#insertBatch(
            client,
            runId,
            run.producer,
            valueId,
            rows.slice(i, i + this.#batchSize),
          )),
        );
      }
      const published = await client.query<{ published_at: Date }>(
        'UPDATE annotation_runs SET published_at = now() WHERE id = $1 RETURNING published_at',
        [runId],
      );
      const switched = await client.query(
        `INSERT INTO current_runs AS cur (producer, entity_type, entity_id, run_id, published_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (producer, entity_type, entity_id) DO UPDATE
           SET run_id = EXCLUDED.run_id, published_at = EXCLUDED.published_at
           WHERE (SELECT (r.producer_version, r.attempt) FROM annotation_runs r WHERE r.id = cur.run_id)
                 <= ($6::int4, $7::int4)
         RETURNING run_id`,
        [
          run.producer,
          run.entity.type,
          run.entity.id,
          runId,
          published.rows[0]!.published_at,
          run.producerVersion,
          run.attempt,
        ],
      );
      await client.query('COMMIT');
      return { runId, created: true, current: switched.rowCount === 1, count: rows.length, ids };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async #insertBatch(
    client: pg.PoolClient,
    runId: string,
    producer: string,
    valueId: string | null,
    rows: NormalizedAnnotation[],
  ): Promise<string[]> {
    const ids = (
      await client.query<{ id: string }>(
        "SELECT nextval('annotations_id_seq')::text AS id FROM generate_series(1, $1)",
        [rows.length],
      )
    ).rows
      .map((r) => r.id)
      .sort((a, b) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : 1));
    const n = rows.length;
    const col = <T>(f: (r: NormalizedAnnotation) => T): T[] => {
      const out = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = f(rows[i]!);
      return out;
    };
    await client.query(
      `INSERT INTO annotations (id, run_id, producer, value_id, type, schema_version, entity_type, entity_id, title_id,
         frame_start, frame_end, time_start, time_end, x, y, w, h, polygon, payload, vector)
       SELECT u.id, $1, $2, $3, u.type, u.schema_version, u.entity_type, u.entity_id, u.title_id,
         u.frame_start, u.frame_end, u.time_start, u.time_end, u.x, u.y, u.w, u.h, u.polygon::jsonb, u.payload::jsonb,
         u.vector::real[]
       FROM unnest($4::int8[], $5::text[], $6::int4[], $7::text[], $8::text[], $9::text[], $10::int4[], $11::int4[],
         $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::float8[], $17::float8[], $18::text[],
         $19::text[], $20::text[])
         AS u(id, type, schema_version, entity_type, entity_id, title_id, frame_start, frame_end, time_start, time_end,
              x, y, w, h, polygon, payload, vector)`,
      [
        runId,
        producer,
        valueId,
        ids,
        col((r) => r.type),
        col((r) => r.schemaVersion),
        col((r) => r.entity.type),
        col((r) => r.entity.id),
        col((r) => r.titleId),
        col((r) => r.temporal.start),
        col((r) => r.temporal.end),
        col((r) => r.temporal.startSec),
        col((r) => r.temporal.endSec),
        col((r) => r.spatial?.x ?? null),
        col((r) => r.spatial?.y ?? null),
        col((r) => r.spatial?.w ?? null),
        col((r) => r.spatial?.h ?? null),
        col((r) => (r.spatial?.polygon ? JSON.stringify(r.spatial.polygon) : null)),
        col((r) => JSON.stringify(r.payload)),
        col((r) => (r.vector ? float4Text(r.vector) : null)),
      ],
    );
    return ids;
  }

  /** The run readers see for (producer, entity), if any. */
  async currentRun(producer: string, entity: EntityRef): Promise<RunInfo | null> {
    const r = await this.pool.query(
      `SELECT r.* FROM current_runs c JOIN annotation_runs r ON r.id = c.run_id
       WHERE c.producer = $1 AND c.entity_type = $2 AND c.entity_id = $3`,
      [producer, entity.type, entity.id],
    );
    return r.rows[0] ? toRunInfo(r.rows[0]) : null;
  }

  /** Every run of (producer, entity), oldest first (superseded runs stay stored). */
  async runs(producer: string, entity: EntityRef): Promise<RunInfo[]> {
    const r = await this.pool.query(
      `SELECT * FROM annotation_runs WHERE producer = $1 AND entity_type = $2 AND entity_id = $3 ORDER BY id`,
      [producer, entity.type, entity.id],
    );
    return r.rows.map(toRunInfo);
  }

  // ---- searching -------------------------------------------------------------------------------------------

  /** Runs a query (JSON text or value). SearchQueryError on invalid input, exceeded limits or timeout. */
  async search(query: unknown): Promise<SearchResult> {
    return this.searchParsed(parseQuery(query, this.limits));
  }

  async searchParsed(q: SearchQuery): Promise<SearchResult> {
    try {
      if (q.near) return await this.#searchNear(q);
      if (q.groupBy) return await this.#searchGrouped(q);
      return await this.#searchPlain(q);
    } catch (err) {
      translatePgError(err, this.limits);
    }
  }

  /** The SQL a plain or grouped query runs (for EXPLAIN and the docs). */
  compile(q: SearchQuery): { text: string; values: unknown[] } {
    return q.groupBy ? this.#groupedSql(q) : this.#plainSql(q);
  }

  #plainSql(q: SearchQuery): { text: string; values: unknown[] } {
    const p = new Params();
    const keys = sortKeys(q);
    const where = [conditionSql(q.where ?? {}, p)];
    if (q.cursor) where.push(afterSql(keys, decodeCursor(q.cursor, queryFingerprint(q), keys), p));
    const vec = q.includeVectors ? ', array_send(a.vector) AS vec' : '';
    const text = `SELECT ${COLUMNS}${vec} FROM ${VISIBLE} WHERE ${where.join(' AND ')} ORDER BY ${orderBySql(keys, p)} LIMIT ${p.add(q.limit + 1, 'int4')}`;
    return { text, values: p.values };
  }

  async #searchPlain(q: SearchQuery): Promise<SearchResult> {
    const { text, values } = this.#plainSql(q);
    const rows = (await this.pool.query<Row>(text, values)).rows.map(toAnnotation);
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const keys = sortKeys(q);
    const last = page[page.length - 1];
    return {
      hits: page.map((a) => toHit(a, q.includeVectors === true)),
      nextCursor:
        more && last
          ? encodeCursor(
              queryFingerprint(q),
              keys.map((k) => k.js(last)),
            )
          : null,
    };
  }

  #groupedSql(q: SearchQuery): { text: string; values: unknown[] } {
    const p = new Params();
    const keys = sortKeys(q);
    const gk = groupKey(q.groupBy!.by);
    const vec = q.includeVectors ? ', a.vector' : '';
    const after = q.cursor
      ? `WHERE ${afterSql(GROUP_ORDER_KEYS, decodeCursor(q.cursor, queryFingerprint(q), GROUP_ORDER_KEYS), p)}`
      : '';
    const text = `WITH f AS (
        SELECT ${COLUMNS}${vec}, ${gk.sqlMissing(p)} AS g_missing, ${gk.sqlText(p)} AS g_text
        FROM ${VISIBLE} WHERE ${conditionSql(q.where ?? {}, p)}
      ), g AS (
        SELECT g_missing, g_text, count(*)::int4 AS n FROM f GROUP BY g_missing, g_text
      ), page AS (
        SELECT g.g_missing, g.g_text, g.n FROM g ${after}
        ORDER BY ${orderBySql(GROUP_ORDER_KEYS, p)} LIMIT ${p.add(q.limit + 1, 'int4')}
      ), hits AS (
        SELECT a.*, row_number() OVER (PARTITION BY a.g_missing, a.g_text ORDER BY ${orderBySql(keys, p)}) AS rn
        FROM f a JOIN page USING (g_missing, g_text)
      )
      SELECT page.n AS grp_n, page.g_missing AS grp_missing, page.g_text AS grp_text, h.*${q.includeVectors ? ', array_send(h.vector) AS vec' : ''}
      FROM page LEFT JOIN hits h ON h.g_missing = page.g_missing AND h.g_text = page.g_text AND h.rn <= ${p.add(q.groupBy!.top, 'int4')}
      ORDER BY page.n DESC, page.g_missing ASC, page.g_text COLLATE "C" ASC, h.rn ASC`;
    return { text, values: p.values };
  }

  async #searchGrouped(q: SearchQuery): Promise<SearchResult> {
    const { text, values } = this.#groupedSql(q);
    const gk = groupKey(q.groupBy!.by);
    const rows = (
      await this.pool.query<Row & { grp_n: number; grp_missing: boolean; grp_text: string }>(text, values)
    ).rows;
    const groups: { n: number; missing: boolean; text: string; hits: Annotation[] }[] = [];
    for (const r of rows) {
      let g = groups[groups.length - 1];
      if (!g || g.missing !== r.grp_missing || g.text !== r.grp_text) {
        g = { n: r.grp_n, missing: r.grp_missing, text: r.grp_text, hits: [] };
        groups.push(g);
      }
      if (r.id !== null) g.hits.push(toHit(toAnnotation(r), q.includeVectors === true));
    }
    const more = groups.length > q.limit;
    const page = groups.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      hits: [],
      groups: page.map((g) => ({ key: gk.value(g.missing, g.text), count: g.n, hits: g.hits })),
      nextCursor: more && last ? encodeCursor(queryFingerprint(q), [last.n, last.missing, last.text]) : null,
    };
  }

  /**
   * Vector queries: SQL applies the filters and returns the candidates' vectors; cosine similarity is exact, in
   * double precision, over that filtered set (at most limits.maxVectorCandidates); the k best then go through
   * the same in-memory sort / page / group as the reference.
   */
  async #searchNear(q: SearchQuery): Promise<SearchResult> {
    // No transaction needed: the candidates come from one statement (one snapshot: one run per producer and
    // entity), and annotations never change, so reading the seed or the k winners by id in other statements
    // returns the same rows.
    const near = q.near!;
    let target: ArrayLike<number>;
    let self: string | undefined;
    if (near.vector) {
      target = near.vector;
    } else {
      const seed = await this.pool.query<{ vec: string | null }>(
        `SELECT encode(array_send(a.vector), 'base64') AS vec FROM ${VISIBLE} WHERE a.id = $1::int8`,
        [near.annotation],
      );
      if (seed.rowCount === 0)
        throw new SearchQueryError('not_found', [
          { path: 'near.annotation', message: `annotation ${near.annotation} not found` },
        ]);
      const vec = seed.rows[0]!.vec;
      if (!vec)
        throw new SearchQueryError('invalid', [
          { path: 'near.annotation', message: `annotation ${near.annotation} has no vector` },
        ]);
      target = decodeFloat4Array(Buffer.from(vec, 'base64'));
      self = near.annotation;
    }
    const p = new Params();
    const where = [
      conditionSql(q.where ?? {}, p),
      'a.vector IS NOT NULL',
      `cardinality(a.vector) = ${p.add(target.length, 'int4')}`,
    ];
    if (self) where.push(`a.id <> ${p.add(self, 'int8')}`);
    const max = this.limits.maxVectorCandidates;
    // base64 of the binary array: a third less to transfer than bytea's hex, far cheaper to parse than text floats.
    const candidates = await this.pool.query<{ id: string; vec: string }>(
      `SELECT a.id, encode(array_send(a.vector), 'base64') AS vec FROM ${VISIBLE} WHERE ${where.join(' AND ')} LIMIT ${p.add(max + 1, 'int4')}`,
      p.values,
    );
    if (candidates.rows.length > max)
      throw new SearchQueryError('limit', [
        {
          path: 'near',
          message: `more than ${max} annotations to score after the filters: narrow them (where)`,
        },
      ]);
    const scored: Scored[] = candidates.rows.map((r) => ({
      id: r.id,
      score: cosine(target, decodeFloat4Array(Buffer.from(r.vec, 'base64'))),
    }));
    const best = topK(scored, near.k, near.minScore);
    const vec = q.includeVectors ? ', array_send(a.vector) AS vec' : '';
    const rows = best.length
      ? (
          await this.pool.query<Row>(
            `SELECT ${COLUMNS}${vec} FROM annotations a WHERE a.id = ANY($1::int8[])`,
            [best.map((b) => b.id)],
          )
        ).rows
      : [];
    const byId = new Map(rows.map((r) => [r.id, toAnnotation(r)]));
    return finishInMemory(
      q,
      best.map((b) => ({ ...byId.get(b.id)!, score: b.score })),
    );
  }
}

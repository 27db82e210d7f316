// Drains the `annotations` outbox into the annotation store (lib/search): claims undelivered rows with
// FOR UPDATE SKIP LOCKED (concurrent syncers never take the same row), converts each value (convert.ts) and
// writes it as one run, written and published in one transaction by AnnotationStore.writeRun, then marks the
// row delivered; a failure is recorded on the row and counted as an attempt.
//
// Idempotent: a run is keyed by (producer, asset, producer version, attempt), i.e. by the value. Delivering the
// same row again (a sync that died after writing the run but before marking the row) finds the run and writes
// nothing. A newer attempt (a recompute) is a new run that replaces the previous one for readers atomically;
// an older one delivered late is stored but never made current.
import { z } from 'zod';
import type { AnnotationStore } from '../search/store.ts';
import { type ConvertContext, ConvertError, converterFor, type SinkValue } from './convert.ts';

export const ANNOTATIONS_SINK = 'annotations';

export interface AnnotationSyncOptions {
  /** Outbox rows claimed per transaction; default 20. */
  batch?: number;
  /** Claimed batches before returning (it also returns as soon as nothing is left to claim); default 1. */
  maxBatches?: number;
  /** Rows that failed this many times are left for a person to look at; default 5. */
  maxAttempts?: number;
  /** Only this value's row (the delivery right after a value is stored). */
  valueId?: string;
  /**
   * The run's producer for a value: the feature name for its default params, else the name plus a params key
   * (two params of one feature are two producers, each with its own current run). Default: the feature name.
   */
  producerOf?: (feature: string, paramsHash: string) => string;
}

export interface AnnotationSyncResult {
  claimed: number;
  delivered: number;
  /** Runs written by this sync, and rows whose run already existed (re-delivery: nothing written). */
  written: number;
  existing: number;
  /** Rows whose run was stored but not made current (an older attempt than the one readers see). */
  superseded: number;
  annotations: number;
  failed: number;
  errors: { outboxId: string; valueId: string; message: string }[];
}

interface ClaimedRow {
  id: string;
  value_id: string;
  feature_name: string;
  feature_version: number;
  entity_key: string;
  params_hash: string;
  attempt: number;
  title_id: string | null;
  value: unknown;
}

const optionsSchema = z.object({
  batch: z.number().int().min(1).max(10_000).default(20),
  maxBatches: z.number().int().min(1).default(1),
  maxAttempts: z.number().int().min(1).max(1000).default(5),
  valueId: z.string().regex(/^\d+$/, 'expected a feature value id').optional(),
});

/** The `shots` value nearest in a value's lineage (its own input, or an input's input, …). */
async function lineageShots(store: AnnotationStore, valueId: string): Promise<unknown> {
  const r = await store.pool.query<{ value: unknown }>(
    `WITH RECURSIVE up(id, depth) AS (
       SELECT input_value_id, 1 FROM feature_value_inputs WHERE value_id = $1::int8
       UNION
       SELECT i.input_value_id, up.depth + 1 FROM feature_value_inputs i JOIN up ON i.value_id = up.id
       WHERE up.depth < 8
     )
     SELECT v.value FROM up JOIN feature_values v ON v.id = up.id
     WHERE v.feature_name = 'shots' ORDER BY up.depth, v.id DESC LIMIT 1`,
    [valueId],
  );
  if (!r.rows[0]) throw new ConvertError(`value ${valueId}: no shots value in its lineage`);
  return r.rows[0].value;
}

/** Converts and writes one value's run. */
async function deliver(
  store: AnnotationStore,
  row: ClaimedRow,
  producerOf: (feature: string, paramsHash: string) => string,
) {
  const convert = converterFor(row.feature_name, row.feature_version);
  if (!convert) {
    throw new ConvertError(
      `no annotation converter for ${row.feature_name}@${row.feature_version} (the feature declares the 'annotations' sink)`,
    );
  }
  const value: SinkValue = {
    valueId: row.value_id,
    feature: row.feature_name,
    version: row.feature_version,
    entityKey: row.entity_key,
    paramsHash: row.params_hash,
    attempt: row.attempt,
    titleId: row.title_id,
    value: row.value,
  };
  let shots: Promise<unknown> | undefined;
  const ctx: ConvertContext = {
    shots: async () => {
      shots ??= row.feature_name === 'shots' ? Promise.resolve(row.value) : lineageShots(store, row.value_id);
      return (await shots) as Awaited<ReturnType<ConvertContext['shots']>>;
    },
  };
  const annotations = await convert(value, ctx);
  return store.writeRun(
    {
      producer: producerOf(row.feature_name, row.params_hash),
      producerVersion: row.feature_version,
      entity: { type: 'asset', id: row.entity_key },
      attempt: row.attempt,
      titleId: row.title_id,
      valueId: row.value_id,
    },
    annotations,
  );
}

export async function syncAnnotationOutbox(
  store: AnnotationStore,
  options: AnnotationSyncOptions = {},
): Promise<AnnotationSyncResult> {
  const { producerOf = (feature: string) => feature, ...rest } = options;
  const opts = optionsSchema.parse(rest);
  const result: AnnotationSyncResult = {
    claimed: 0,
    delivered: 0,
    written: 0,
    existing: 0,
    superseded: 0,
    annotations: 0,
    failed: 0,
    errors: [],
  };
  for (let b = 0; b < opts.maxBatches; b++) {
    const client = await store.pool.connect();
    let claimed = 0;
    try {
      await client.query('BEGIN');
      const rows = (
        await client.query<ClaimedRow>(
          `SELECT o.id::text, o.value_id::text, v.feature_name, v.feature_version, v.entity_key, v.params_hash,
                  v.attempt, v.title_id, v.value
           FROM outbox_events o JOIN feature_values v ON v.id = o.value_id
           WHERE o.sink = $1 AND o.delivered_at IS NULL AND o.attempts < $2
             AND ($4::int8 IS NULL OR o.value_id = $4::int8)
           ORDER BY o.id
           LIMIT $3
           FOR UPDATE OF o SKIP LOCKED`,
          [ANNOTATIONS_SINK, opts.maxAttempts, opts.batch, opts.valueId ?? null],
        )
      ).rows;
      claimed = rows.length;
      for (const row of rows) {
        try {
          const run = await deliver(store, row, producerOf);
          await client.query(
            `UPDATE outbox_events SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
             WHERE id = $1::int8`,
            [row.id],
          );
          result.delivered++;
          if (run.created) {
            result.written++;
            result.annotations += run.count;
          } else result.existing++;
          if (!run.current) result.superseded++;
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          await client.query(
            `UPDATE outbox_events SET attempts = attempts + 1, last_error = $2 WHERE id = $1::int8`,
            [row.id, message.slice(0, 2000)],
          );
          result.failed++;
          result.errors.push({ outboxId: row.id, valueId: row.value_id, message });
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    result.claimed += claimed;
    if (claimed < opts.batch || opts.valueId) break;
  }
  return result;
}

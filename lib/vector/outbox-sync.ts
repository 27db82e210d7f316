// Drains the `vectors` outbox: claims undelivered rows with FOR UPDATE SKIP LOCKED (so concurrent syncers
// never take the same row), loads each value's vectors, upserts them into the index and marks the row
// delivered, or records the error and counts the attempt. Upserts are idempotent, so a sync that dies after
// writing the index but before committing only repeats harmless work.
import { z } from 'zod';
import { type ObjectStore, objectRefSchema } from '../objects/store.ts';
import type { Db } from '../store/db.ts';
import { createVectorMatrix } from './matrix.ts';
import { loadVectorMatrix } from './matrix-file.ts';
import type { EntityVectors, VectorIndex } from './vector-index.ts';

export const VECTORS_SINK = 'vectors';

export interface SyncOptions {
  /** Outbox rows claimed per transaction; default 20. */
  batch?: number;
  /** Claimed batches before returning (it also returns as soon as the outbox is empty); default 1. */
  maxBatches?: number;
  /** Rows that failed this many times are left for a person to look at; default 5. */
  maxAttempts?: number;
  /** Limit of one batch's transaction; default 10 minutes. */
  transactionTimeoutMs?: number;
}

export interface SyncResult {
  claimed: number;
  delivered: number;
  /** Rows whose value was older than what the index holds (delivered, nothing written). */
  stale: number;
  failed: number;
  points: number;
  errors: { outboxId: string; valueId: string; message: string }[];
}

interface ClaimedRow {
  id: bigint;
  value_id: bigint;
  feature_name: string;
  feature_version: number;
  entity_key: string;
  title_id: string | null;
  value: unknown;
  object_uri: string | null;
}

const optionsSchema = z.object({
  batch: z.number().int().min(1).max(10_000).default(20),
  maxBatches: z.number().int().min(1).default(1),
  maxAttempts: z.number().int().min(1).max(1000).default(5),
  transactionTimeoutMs: z.number().int().min(1000).default(600_000),
});

const matrixValue = z.object({ object: objectRefSchema });
const inlineValue = z.object({ vector: z.array(z.number()).min(1) });

/** The vectors a stored value stands for: its matrix object, or one inline `vector` (shot 0). */
export async function vectorsOfValue(objects: ObjectStore, row: ClaimedRow): Promise<EntityVectors> {
  const base = {
    feature: row.feature_name,
    version: row.feature_version,
    entityKey: row.entity_key,
    titleId: row.title_id,
    valueId: row.value_id.toString(),
  };
  const asMatrix = matrixValue.safeParse(row.value);
  const uri = asMatrix.success ? asMatrix.data.object.uri : row.object_uri;
  if (uri) {
    const m = await loadVectorMatrix(objects, { uri });
    return { ...base, dim: m.dim, data: m.data, shots: m.shots.map((s) => s.shot) };
  }
  const inline = inlineValue.safeParse(row.value);
  if (inline.success) {
    const m = createVectorMatrix({ dim: inline.data.vector.length, rows: [inline.data.vector] });
    return { ...base, dim: m.dim, data: m.data, shots: [0] };
  }
  throw new Error(
    `value ${row.value_id} (${row.feature_name}@${row.feature_version}) has neither an \`object\` vector matrix nor a \`vector\``,
  );
}

export async function syncVectorOutbox(
  db: Db,
  objects: ObjectStore,
  index: VectorIndex,
  options: SyncOptions = {},
): Promise<SyncResult> {
  const opts = optionsSchema.parse(options);
  const result: SyncResult = { claimed: 0, delivered: 0, stale: 0, failed: 0, points: 0, errors: [] };
  for (let b = 0; b < opts.maxBatches; b++) {
    const claimed = await db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<ClaimedRow[]>`
          SELECT o.id, o.value_id, v.feature_name, v.feature_version, v.entity_key, v.title_id, v.value, v.object_uri
          FROM outbox_events o JOIN feature_values v ON v.id = o.value_id
          WHERE o.sink = ${VECTORS_SINK} AND o.delivered_at IS NULL AND o.attempts < ${opts.maxAttempts}
          ORDER BY o.id
          LIMIT ${opts.batch}
          FOR UPDATE OF o SKIP LOCKED`;
        for (const row of rows) {
          try {
            const upserted = await index.upsertEntity(await vectorsOfValue(objects, row));
            await tx.$executeRaw`
              UPDATE outbox_events SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
              WHERE id = ${row.id}`;
            result.delivered++;
            result.points += upserted.points;
            if (upserted.stale) result.stale++;
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            await tx.$executeRaw`
              UPDATE outbox_events SET attempts = attempts + 1, last_error = ${message.slice(0, 2000)}
              WHERE id = ${row.id}`;
            result.failed++;
            result.errors.push({ outboxId: row.id.toString(), valueId: row.value_id.toString(), message });
          }
        }
        return rows.length;
      },
      { timeout: opts.transactionTimeoutMs, maxWait: 30_000 },
    );
    result.claimed += claimed;
    if (claimed < opts.batch) break;
  }
  return result;
}

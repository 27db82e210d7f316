// An in-memory per-shot vector matrix: `rows × dim` float32, row-major, every row L2-normalized, with one
// shot record per row (the shot's index in its title's `shots` value, its frame range and an optional group).
import { z } from 'zod';

/** Row r describes shot `shot` of the title, frames `[start, end)` of the standardized derivative. */
export interface ShotRow {
  shot: number;
  start: number;
  end: number;
  /** Near-duplicate group (e.g. from `shot-dedup`); null when the shot is in none. */
  group: number | null;
}

/** Free-form description stored with the matrix (model, flavor, feature version, fps …). */
export type MatrixInfo = Record<string, unknown>;

export interface VectorMatrix {
  rows: number;
  dim: number;
  /** `rows × dim` float32, row-major, rows L2-normalized. */
  data: Float32Array;
  shots: ShotRow[];
  info: MatrixInfo;
}

export const MAX_DIM = 65_536;
export const MAX_ROWS = 50_000_000;
/** Frame numbers and shot indices are stored as u32; -1 marks "no group" in the i32 group column. */
const U32_MAX = 0xffff_ffff;

export const shotRowSchema = z
  .object({
    shot: z.number().int().min(0).max(U32_MAX),
    start: z.number().int().min(0).max(U32_MAX),
    end: z.number().int().min(0).max(U32_MAX),
    group: z.number().int().min(0).max(0x7fff_ffff).nullable().default(null),
  })
  .refine((s) => s.end >= s.start, { message: 'a shot range needs end >= start' });

export const dimSchema = z.number().int().min(1).max(MAX_DIM);

export class MatrixError extends Error {
  override name = 'MatrixError';
}

const UNIT_TOLERANCE = 4 * 2 ** -24;

/**
 * L2-normalizes `count` rows of `data` in place (starting at row `firstRow`, used in messages). Throws on a
 * NaN or infinite value and on an all-zero row, which has no direction and cannot be scored by cosine.
 */
export function normalizeRows(data: Float32Array, dim: number, firstRow = 0): void {
  if (data.length % dim !== 0) {
    throw new MatrixError(`vector data of length ${data.length} is not a whole number of ${dim}-d rows`);
  }
  const rows = data.length / dim;
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sum = 0;
    for (let c = 0; c < dim; c++) {
      const v = data[base + c]!;
      if (!Number.isFinite(v)) {
        throw new MatrixError(`row ${firstRow + r} has a non-finite value (${v}) at column ${c}`);
      }
      sum += v * v;
    }
    if (sum === 0) throw new MatrixError(`row ${firstRow + r} is all zeros: it has no direction to compare`);
    // Rows already of unit length (to float32 precision) stay bit-identical, so normalizing is idempotent.
    if (Math.abs(sum - 1) <= UNIT_TOLERANCE) continue;
    const inv = 1 / Math.sqrt(sum);
    for (let c = 0; c < dim; c++) data[base + c]! *= inv;
  }
}

/** Checks that every value is finite (a corrupt or hand-made matrix must not reach the scorer). */
export function assertFiniteRows(data: Float32Array, dim: number, firstRow = 0): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new MatrixError(`row ${firstRow + Math.floor(i / dim)} has a non-finite value (${data[i]})`);
    }
  }
}

/** Default shot records: row r is shot r with an empty frame range. */
export function defaultShots(rows: number): ShotRow[] {
  return Array.from({ length: rows }, (_, r) => ({ shot: r, start: 0, end: 0, group: null }));
}

export function parseShots(shots: unknown[], rows: number): ShotRow[] {
  if (shots.length !== rows) {
    throw new MatrixError(`${shots.length} shot records for ${rows} rows: there must be one per row`);
  }
  return shots.map((s, r) => {
    const parsed = shotRowSchema.safeParse(s);
    if (!parsed.success) throw new MatrixError(`shot record ${r}: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  });
}

export interface MatrixInput {
  dim: number;
  /** Row-major values (copied, then normalized) or one array per row. */
  rows: Float32Array | ArrayLike<number>[];
  shots?: unknown[];
  info?: MatrixInfo;
}

/** Builds a validated, L2-normalized matrix; the input is never modified. */
export function createVectorMatrix(input: MatrixInput): VectorMatrix {
  const dim = dimSchema.safeParse(input.dim);
  if (!dim.success) throw new MatrixError(`dim must be an integer in 1…${MAX_DIM}, got ${input.dim}`);
  const d = dim.data;
  let data: Float32Array;
  if (input.rows instanceof Float32Array) {
    data = new Float32Array(input.rows);
  } else {
    data = new Float32Array(input.rows.length * d);
    input.rows.forEach((row, r) => {
      if (row.length !== d) throw new MatrixError(`row ${r} has ${row.length} values, expected ${d}`);
      for (let c = 0; c < d; c++) data[r * d + c] = row[c]!;
    });
  }
  normalizeRows(data, d);
  const rows = data.length / d;
  if (rows > MAX_ROWS) throw new MatrixError(`${rows} rows exceed the limit of ${MAX_ROWS}`);
  const shots = input.shots ? parseShots(input.shots, rows) : defaultShots(rows);
  return { rows, dim: d, data, shots, info: input.info ?? {} };
}

/** Row r of a matrix as a view (no copy). */
export function rowOf(m: VectorMatrix, r: number): Float32Array {
  return m.data.subarray(r * m.dim, (r + 1) * m.dim);
}

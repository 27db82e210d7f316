// The per-shot vector matrix as one object in the ObjectStore (layout in docs/matchcut-scoring.md):
//
//   0   8  magic "MMVECMAT"            32  8  data offset (u64, a multiple of 64)
//   8   2  format version (u16) = 1    40 24  reserved (zero)
//  10   2  dtype (u16) = 1 (float32)   64     shot table: rows × {u32 shot, u32 start, u32 end, i32 group (-1: none)}
//  12   4  flags (bit 0: L2-normalized)       info JSON (UTF-8, infoLength bytes), zero padding to the data offset
//  16   4  rows (u32)                  data   rows × dim float32, row-major
//  20   4  dim (u32)
//  24   4  infoLength (u32)            all integers and floats little-endian
//  28   4  reserved (zero)
//
// Writes stream (hash while writing, never the whole matrix twice); reads are positional, so a reader holds
// one block of rows at a time.
import fs from 'node:fs';
import os from 'node:os';
import type { ObjectRef, ObjectStore } from '../objects/store.ts';
import {
  assertFiniteRows,
  dimSchema,
  MAX_ROWS,
  MatrixError,
  type MatrixInfo,
  normalizeRows,
  parseShots,
  type ShotRow,
  type VectorMatrix,
} from './matrix.ts';

export const MATRIX_MAGIC = 'MMVECMAT';
export const MATRIX_FORMAT_VERSION = 1;
const DTYPE_FLOAT32 = 1;
const FLAG_NORMALIZED = 1;
const HEADER_BYTES = 64;
const SHOT_BYTES = 16;
const ALIGN = 64;
const WRITE_CHUNK_ROWS_BYTES = 1 << 20;

if (os.endianness() !== 'LE') {
  // The data section is written straight from Float32Array memory; a big-endian host would need byte swaps.
  throw new Error('the vector matrix format is implemented for little-endian hosts only');
}

export interface MatrixHeader {
  rows: number;
  dim: number;
  normalized: boolean;
  dataOffset: number;
  info: MatrixInfo;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

function encodePrefix(dim: number, shots: readonly ShotRow[], info: MatrixInfo): Buffer {
  const infoBytes = Buffer.from(JSON.stringify(info), 'utf8');
  const rows = shots.length;
  const dataOffset = alignUp(HEADER_BYTES + rows * SHOT_BYTES + infoBytes.length);
  const buf = Buffer.alloc(dataOffset);
  buf.write(MATRIX_MAGIC, 0, 'ascii');
  buf.writeUInt16LE(MATRIX_FORMAT_VERSION, 8);
  buf.writeUInt16LE(DTYPE_FLOAT32, 10);
  buf.writeUInt32LE(FLAG_NORMALIZED, 12);
  buf.writeUInt32LE(rows, 16);
  buf.writeUInt32LE(dim, 20);
  buf.writeUInt32LE(infoBytes.length, 24);
  buf.writeBigUInt64LE(BigInt(dataOffset), 32);
  shots.forEach((s, r) => {
    const o = HEADER_BYTES + r * SHOT_BYTES;
    buf.writeUInt32LE(s.shot, o);
    buf.writeUInt32LE(s.start, o + 4);
    buf.writeUInt32LE(s.end, o + 8);
    buf.writeInt32LE(s.group ?? -1, o + 12);
  });
  infoBytes.copy(buf, HEADER_BYTES + rows * SHOT_BYTES);
  return buf;
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export interface MatrixLayout {
  dim: number;
  /** One record per row; fixes the row count. */
  shots: unknown[];
  info?: MatrixInfo;
}

/**
 * Writes a matrix whose rows arrive in batches (each a whole number of rows, any batch size): every batch is
 * copied, validated and L2-normalized on the way to the store. The row count must match the shot records.
 */
export async function writeVectorMatrixStream(
  objects: ObjectStore,
  layout: MatrixLayout,
  batches: AsyncIterable<Float32Array> | Iterable<Float32Array>,
): Promise<ObjectRef> {
  const dim = dimSchema.safeParse(layout.dim);
  if (!dim.success) throw new MatrixError(`dim must be an integer in 1…65536, got ${layout.dim}`);
  const d = dim.data;
  const rows = layout.shots.length;
  if (rows > MAX_ROWS) throw new MatrixError(`${rows} rows exceed the limit of ${MAX_ROWS}`);
  const shots = parseShots(layout.shots, rows);
  const prefix = encodePrefix(d, shots, layout.info ?? {});
  async function* chunks() {
    yield prefix;
    let written = 0;
    for await (const batch of batches) {
      if (batch.length % d !== 0) {
        throw new MatrixError(`a batch of ${batch.length} values is not a whole number of ${d}-d rows`);
      }
      const n = batch.length / d;
      if (written + n > rows) throw new MatrixError(`more rows than the ${rows} shot records`);
      const copy = new Float32Array(batch);
      normalizeRows(copy, d, written);
      written += n;
      yield bytesOf(copy);
    }
    if (written !== rows) throw new MatrixError(`${written} rows written for ${rows} shot records`);
  }
  return objects.putStream(chunks());
}

/** Writes an in-memory matrix (already normalized by `createVectorMatrix`) as one object. */
export async function writeVectorMatrix(objects: ObjectStore, m: VectorMatrix): Promise<ObjectRef> {
  if (m.data.length !== m.rows * m.dim) {
    throw new MatrixError(`matrix data has ${m.data.length} values, expected ${m.rows} × ${m.dim}`);
  }
  const step = Math.max(1, Math.floor(WRITE_CHUNK_ROWS_BYTES / (4 * m.dim))) * m.dim;
  function* batches() {
    for (let o = 0; o < m.data.length; o += step) yield m.data.subarray(o, o + step);
  }
  return writeVectorMatrixStream(objects, { dim: m.dim, shots: m.shots, info: m.info }, batches());
}

export interface VectorMatrixReader {
  readonly header: MatrixHeader;
  readonly shots: ShotRow[];
  /** Rows `[start, start + count)`, into `into` when given (it must hold count × dim values). */
  readRows(start: number, count: number, into?: Float32Array): Promise<Float32Array>;
  /**
   * Blocks of up to `blockRows` rows in order. The yielded array is reused for the next block (constant
   * memory): copy it if you keep it.
   */
  blocks(blockRows: number): AsyncGenerator<{ start: number; rows: number; data: Float32Array }>;
  readAll(): Promise<VectorMatrix>;
  close(): Promise<void>;
}

async function readExactly(fh: fs.promises.FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new MatrixError(`vector matrix is truncated at byte ${position + done}`);
    done += bytesRead;
  }
}

function parseHeader(
  buf: Buffer,
  fileSize: number,
  where: string,
): Omit<MatrixHeader, 'info'> & { infoLength: number } {
  if (buf.toString('ascii', 0, 8) !== MATRIX_MAGIC) throw new MatrixError(`${where} is not a vector matrix`);
  const version = buf.readUInt16LE(8);
  if (version !== MATRIX_FORMAT_VERSION) {
    throw new MatrixError(`${where}: vector matrix format version ${version} is not supported`);
  }
  if (buf.readUInt16LE(10) !== DTYPE_FLOAT32)
    throw new MatrixError(`${where}: only float32 data is supported`);
  const normalized = (buf.readUInt32LE(12) & FLAG_NORMALIZED) !== 0;
  const rows = buf.readUInt32LE(16);
  const dim = buf.readUInt32LE(20);
  const infoLength = buf.readUInt32LE(24);
  const dataOffset = Number(buf.readBigUInt64LE(32));
  if (dim === 0) throw new MatrixError(`${where}: a matrix of 0-d vectors`);
  const expected = dataOffset + rows * dim * 4;
  if (dataOffset < HEADER_BYTES + rows * SHOT_BYTES + infoLength || expected !== fileSize) {
    throw new MatrixError(
      `${where}: size ${fileSize} does not match its header (${rows} × ${dim}, expected ${expected})`,
    );
  }
  return { rows, dim, normalized, dataOffset, infoLength };
}

/** Opens a stored matrix for positional reads; reads the header and shot table only. */
export async function openVectorMatrix(
  objects: ObjectStore,
  ref: Pick<ObjectRef, 'uri'>,
): Promise<VectorMatrixReader> {
  const file = await objects.localPath(ref);
  const fh = await fs.promises.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < HEADER_BYTES) throw new MatrixError(`${ref.uri} is too small to be a vector matrix`);
    const head = Buffer.alloc(HEADER_BYTES);
    await readExactly(fh, head, 0);
    const h = parseHeader(head, size, ref.uri);
    const table = Buffer.alloc(h.rows * SHOT_BYTES + h.infoLength);
    await readExactly(fh, table, HEADER_BYTES);
    const shots: ShotRow[] = new Array(h.rows);
    for (let r = 0; r < h.rows; r++) {
      const o = r * SHOT_BYTES;
      const group = table.readInt32LE(o + 12);
      shots[r] = {
        shot: table.readUInt32LE(o),
        start: table.readUInt32LE(o + 4),
        end: table.readUInt32LE(o + 8),
        group: group < 0 ? null : group,
      };
    }
    let info: MatrixInfo;
    try {
      info = JSON.parse(table.toString('utf8', h.rows * SHOT_BYTES)) as MatrixInfo;
    } catch {
      throw new MatrixError(`${ref.uri}: the info section is not valid JSON`);
    }
    const header: MatrixHeader = {
      rows: h.rows,
      dim: h.dim,
      normalized: h.normalized,
      dataOffset: h.dataOffset,
      info,
    };
    return new FileMatrixReader(fh, header, shots);
  } catch (err) {
    await fh.close();
    throw err;
  }
}

class FileMatrixReader implements VectorMatrixReader {
  constructor(
    private readonly fh: fs.promises.FileHandle,
    readonly header: MatrixHeader,
    readonly shots: ShotRow[],
  ) {}

  async readRows(start: number, count: number, into?: Float32Array): Promise<Float32Array> {
    const { rows, dim, dataOffset } = this.header;
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > rows
    ) {
      throw new MatrixError(`rows [${start}, ${start + count}) are outside the matrix (${rows} rows)`);
    }
    const out = into ?? new Float32Array(count * dim);
    if (out.length < count * dim) throw new MatrixError(`buffer of ${out.length} values is too small`);
    const view = new Uint8Array(out.buffer, out.byteOffset, count * dim * 4);
    await readExactly(this.fh, view, dataOffset + start * dim * 4);
    const data = out.subarray(0, count * dim);
    assertFiniteRows(data, dim, start);
    return data;
  }

  async *blocks(blockRows: number) {
    if (!Number.isInteger(blockRows) || blockRows < 1)
      throw new MatrixError(`blockRows must be ≥ 1, got ${blockRows}`);
    const { rows, dim } = this.header;
    const buf = new Float32Array(Math.min(blockRows, rows) * dim);
    for (let start = 0; start < rows; start += blockRows) {
      const n = Math.min(blockRows, rows - start);
      yield { start, rows: n, data: await this.readRows(start, n, buf) };
    }
  }

  async readAll(): Promise<VectorMatrix> {
    const { rows, dim, info } = this.header;
    const data = await this.readRows(0, rows);
    return { rows, dim, data, shots: this.shots, info };
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Reads a whole stored matrix into memory. */
export async function loadVectorMatrix(
  objects: ObjectStore,
  ref: Pick<ObjectRef, 'uri'>,
): Promise<VectorMatrix> {
  const reader = await openVectorMatrix(objects, ref);
  try {
    return await reader.readAll();
  } finally {
    await reader.close();
  }
}

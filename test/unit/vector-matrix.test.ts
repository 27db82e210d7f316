import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { createVectorMatrix, MatrixError, normalizeRows } from '../../lib/vector/matrix.ts';
import {
  loadVectorMatrix,
  MATRIX_MAGIC,
  openVectorMatrix,
  writeVectorMatrix,
  writeVectorMatrixStream,
} from '../../lib/vector/matrix-file.ts';

let dir: string;
let store: FsObjectStore;

function sample(rows: number, dim: number) {
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) + (i % dim === 0 ? 2 : 0);
  const shots = Array.from({ length: rows }, (_, r) => ({
    shot: r * 2,
    start: r * 30,
    end: r * 30 + 29,
    group: r % 4 === 0 ? 7 : null,
  }));
  return createVectorMatrix({ dim, rows: data, shots, info: { feature: 'matchcut-repr:frame', version: 3 } });
}

/** Stores arbitrary bytes as an object (to hand the reader broken files). */
async function putBytes(bytes: Buffer) {
  const file = path.join(dir, `raw-${Math.random()}`);
  fs.writeFileSync(file, bytes);
  return store.putFile(file);
}

describe('vector matrix format', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-matrix-'));
    store = new FsObjectStore(path.join(dir, 'store'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('normalizes rows to unit length and refuses NaN, infinite and all-zero rows', () => {
    const m = createVectorMatrix({
      dim: 2,
      rows: [
        [3, 4],
        [0, -2],
      ],
    });
    assert.deepEqual(Array.from(m.data), [0.6000000238418579, 0.800000011920929, 0, -1]);
    assert.deepEqual(m.shots[1], { shot: 1, start: 0, end: 0, group: null });
    assert.throws(
      () =>
        createVectorMatrix({
          dim: 2,
          rows: [
            [1, 0],
            [Number.NaN, 1],
          ],
        }),
      /row 1 has a non-finite value/,
    );
    assert.throws(
      () => createVectorMatrix({ dim: 2, rows: [[1, Infinity]] }),
      /row 0 has a non-finite value/,
    );
    assert.throws(() => createVectorMatrix({ dim: 2, rows: [[0, 0]] }), /row 0 is all zeros/);
    assert.throws(() => createVectorMatrix({ dim: 3, rows: [[1, 2]] }), /row 0 has 2 values, expected 3/);
    assert.throws(() => createVectorMatrix({ dim: 0, rows: [] }), /dim must be an integer/);
    // No rows is a matrix too: a title of blank shots has nothing to embed.
    assert.deepEqual(
      (({ rows, dim, shots }) => ({ rows, dim, shots }))(
        createVectorMatrix({ dim: 4, rows: new Float32Array(0) }),
      ),
      { rows: 0, dim: 4, shots: [] },
    );
    assert.throws(
      () => createVectorMatrix({ dim: 4, rows: new Float32Array(6) }),
      /not a whole number of 4-d rows/,
    );
    assert.throws(
      () => createVectorMatrix({ dim: 1, rows: [[1]], shots: [{ shot: 0, start: 5, end: 2 }] }),
      /shot record 0: a shot range needs end >= start/,
    );
    assert.throws(() => createVectorMatrix({ dim: 1, rows: [[1]], shots: [] }), /0 shot records for 1 rows/);
    const input = new Float32Array([3, 4]);
    createVectorMatrix({ dim: 2, rows: input });
    assert.deepEqual(Array.from(input), [3, 4], 'the input is not modified');
  });

  it('round-trips a matrix through the object store, content-addressed', async () => {
    const m = sample(300, 24);
    const ref = await writeVectorMatrix(store, m);
    const again = await writeVectorMatrix(store, m);
    assert.deepEqual(again, ref, 'same matrix, same object');
    const back = await loadVectorMatrix(store, ref);
    assert.equal(back.rows, 300);
    assert.equal(back.dim, 24);
    assert.deepEqual(back.data, m.data);
    assert.deepEqual(back.shots, m.shots);
    assert.deepEqual(back.info, { feature: 'matchcut-repr:frame', version: 3 });
  });

  it('lays out the header, shot table and 64-aligned data as documented', async () => {
    const m = sample(3, 5);
    const ref = await writeVectorMatrix(store, m);
    const bytes = fs.readFileSync(await store.localPath(ref));
    assert.equal(bytes.toString('ascii', 0, 8), MATRIX_MAGIC);
    assert.equal(bytes.readUInt16LE(8), 1);
    assert.equal(bytes.readUInt16LE(10), 1);
    assert.equal(bytes.readUInt32LE(12), 1);
    assert.equal(bytes.readUInt32LE(16), 3);
    assert.equal(bytes.readUInt32LE(20), 5);
    const dataOffset = Number(bytes.readBigUInt64LE(32));
    assert.equal(dataOffset % 64, 0);
    assert.equal(bytes.length, dataOffset + 3 * 5 * 4);
    assert.deepEqual(
      [bytes.readUInt32LE(64 + 16), bytes.readUInt32LE(68 + 16), bytes.readUInt32LE(72 + 16)],
      [2, 30, 59],
    );
    assert.equal(bytes.readInt32LE(64 + 12), 7);
    assert.equal(bytes.readInt32LE(64 + 16 + 12), -1, 'no group');
    assert.equal(bytes.readFloatLE(dataOffset + 4 * 5), m.data[5]);
    const infoLength = bytes.readUInt32LE(24);
    assert.deepEqual(JSON.parse(bytes.toString('utf8', 64 + 3 * 16, 64 + 3 * 16 + infoLength)), m.info);
  });

  it('reads by block into one reused buffer, and arbitrary row ranges', async () => {
    const m = sample(1000, 16);
    const ref = await writeVectorMatrix(store, m);
    const reader = await openVectorMatrix(store, ref);
    try {
      let seen = 0;
      let buffer: ArrayBufferLike | undefined;
      for await (const block of reader.blocks(128)) {
        assert.equal(block.start, seen);
        assert.deepEqual(block.data, m.data.subarray(seen * 16, (seen + block.rows) * 16));
        buffer ??= block.data.buffer;
        assert.equal(block.data.buffer, buffer, 'constant memory: one buffer for every block');
        seen += block.rows;
      }
      assert.equal(seen, 1000);
      assert.deepEqual(await reader.readRows(990, 10), m.data.subarray(990 * 16));
      await assert.rejects(
        reader.readRows(995, 10),
        /rows \[995, 1005\) are outside the matrix \(1000 rows\)/,
      );
      await assert.rejects(async () => {
        for await (const _ of reader.blocks(0)) break;
      }, /blockRows must be ≥ 1/);
    } finally {
      await reader.close();
    }
  });

  it('streams rows in batches of any size and normalizes them on the way', async () => {
    const m = sample(50, 8);
    const raw = new Float32Array(m.data.length);
    for (let i = 0; i < raw.length; i++) raw[i] = m.data[i]! * (1 + (i % 8));
    const expected = new Float32Array(raw);
    normalizeRows(expected, 8);
    async function* batches() {
      yield raw.subarray(0, 7 * 8);
      yield raw.subarray(7 * 8, 40 * 8);
      yield raw.subarray(40 * 8);
    }
    const ref = await writeVectorMatrixStream(store, { dim: 8, shots: m.shots }, batches());
    assert.deepEqual((await loadVectorMatrix(store, ref)).data, expected);
    const tooFew = writeVectorMatrixStream(store, { dim: 8, shots: m.shots }, [raw.subarray(0, 8)]);
    await assert.rejects(tooFew, /1 rows written for 50 shot records/);
    const ragged = writeVectorMatrixStream(store, { dim: 8, shots: m.shots }, [raw.subarray(0, 12)]);
    await assert.rejects(ragged, /not a whole number of 8-d rows/);
    const nan = new Float32Array(raw);
    nan[8 * 30 + 2] = Number.NaN;
    await assert.rejects(
      writeVectorMatrixStream(store, { dim: 8, shots: m.shots }, [nan]),
      /row 30 has a non-finite/,
    );
    await assert.rejects(
      writeVectorMatrixStream(store, { dim: 8, shots: [] }, [raw]),
      /more rows than the 0/,
    );
    const empty = await loadVectorMatrix(
      store,
      await writeVectorMatrixStream(store, { dim: 8, shots: [] }, []),
    );
    assert.deepEqual([empty.rows, empty.dim, empty.data.length, empty.shots], [0, 8, 0, []]);
    assert.deepEqual(
      fs.readdirSync(path.join(dir, 'store', 'incoming')),
      [],
      'failed writes leave nothing behind',
    );
  });

  it('refuses files that are not intact matrices', async () => {
    const good = fs.readFileSync(await store.localPath(await writeVectorMatrix(store, sample(4, 4))));
    const truncated = await putBytes(good.subarray(0, good.length - 4));
    await assert.rejects(openVectorMatrix(store, truncated), /does not match its header/);
    const notMatrix = await putBytes(Buffer.from('x'.repeat(200)));
    await assert.rejects(openVectorMatrix(store, notMatrix), /is not a vector matrix/);
    const tiny = await putBytes(Buffer.from('MMVEC'));
    await assert.rejects(openVectorMatrix(store, tiny), /too small/);
    const future = Buffer.from(good);
    future.writeUInt16LE(9, 8);
    await assert.rejects(
      openVectorMatrix(store, await putBytes(future)),
      /format version 9 is not supported/,
    );
    const corrupt = Buffer.from(good);
    corrupt.writeFloatLE(Number.NaN, Number(good.readBigUInt64LE(32)) + 4 * 4 * 2);
    await assert.rejects(loadVectorMatrix(store, await putBytes(corrupt)), /row 2 has a non-finite value/);
    await assert.rejects(loadVectorMatrix(store, { uri: `mm://sha256/${'0'.repeat(64)}` }), /ENOENT/);
  });

  it('keeps MatrixError as the error type for bad matrices', () => {
    assert.throws(() => createVectorMatrix({ dim: 2, rows: [[0, 0]] }), MatrixError);
  });
});

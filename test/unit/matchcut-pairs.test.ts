import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JsBlockKernel, scoreErrorBound } from '../../lib/matchcut/kernel.ts';
import { OnnxInt8BlockKernel } from '../../lib/matchcut/onnx-int8-kernel.ts';
import { OnnxBlockKernel } from '../../lib/matchcut/onnx-kernel.ts';
import { scorePairs } from '../../lib/matchcut/pairs.ts';
import { seededRandom as rng } from '../../lib/matchcut/random.ts';
import { scorePairsReference } from '../../lib/matchcut/reference.ts';
import type { PairSource } from '../../lib/matchcut/sources.ts';
import { createVectorMatrix, type ShotRow } from '../../lib/vector/matrix.ts';

function randomSource(id: string, rows: number, dim: number, seed: number, dupEvery = 0): PairSource {
  const r = rng(seed);
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = r() - 0.5;
  // Exact duplicates give exactly tied scores, which only the tie-break can order.
  if (dupEvery) for (let i = dupEvery; i < rows; i += dupEvery) data.copyWithin(i * dim, 0, dim);
  const shots: ShotRow[] = Array.from({ length: rows }, (_, s) => ({
    shot: s,
    start: s * 10,
    end: s * 10 + 8,
    group: s % 7 === 0 ? s % 3 : null,
  }));
  return { id, matrix: createVectorMatrix({ dim, rows: data, shots }) };
}

let onnx: OnnxBlockKernel;
let int8: OnnxInt8BlockKernel;

describe('exact pair scoring', () => {
  before(async () => {
    onnx = await OnnxBlockKernel.create({ threads: 2 });
    // maxBound 1: int8 on every tile, however loose its bound (the exactness pass must still hold).
    int8 = await OnnxInt8BlockKernel.create({ threads: 2, maxBound: 1 });
  });
  after(async () => {
    await onnx.close();
    await int8.close();
  });

  const cases = [
    {
      name: 'one title, blocks that do not divide N',
      sources: () => [randomSource('a', 701, 48, 1)],
      block: 128,
    },
    { name: 'one title in one tile', sources: () => [randomSource('a', 300, 32, 2)], block: 2048 },
    {
      name: 'three titles, blocks straddling titles',
      sources: () => [
        randomSource('a', 150, 40, 3),
        randomSource('b', 97, 40, 4),
        randomSource('c', 203, 40, 5),
      ],
      block: 64,
    },
    { name: 'duplicate rows (exact ties)', sources: () => [randomSource('a', 400, 24, 6, 37)], block: 96 },
  ];
  const filterSets = [
    { k: 50 },
    { k: 1 },
    { k: 400, excludeWithinFrames: 25 },
    { k: 60, excludeSameGroup: true },
    { k: 80, excludeSameTitle: true },
    { k: 5000, minScore: 0.3 },
  ];

  for (const c of cases) {
    for (const f of filterSets) {
      it(`${c.name}, ${JSON.stringify(f)}: the ONNX path returns exactly the reference's pairs`, async () => {
        const sources = c.sources();
        const expected = scorePairsReference(sources, f);
        const got = await scorePairs(sources, { ...f, blockRows: c.block, kernel: onnx });
        assert.deepEqual(got.pairs, expected);
        const js = await scorePairs(sources, { ...f, blockRows: c.block, kernel: 'js' });
        assert.deepEqual(js.pairs, expected);
        const q = await scorePairs(sources, { ...f, blockRows: c.block, kernel: int8 });
        assert.deepEqual(q.pairs, expected, 'int8 candidates, exact answer');
      });
    }
  }

  it('orders tied scores by row order, deterministically', async () => {
    const row = [0.3, -0.2, 0.9, 0.1];
    const matrix = createVectorMatrix({ dim: 4, rows: Array.from({ length: 6 }, () => row) });
    const { pairs } = await scorePairs([{ id: 't', matrix }], { k: 7, blockRows: 4, kernel: onnx });
    assert.deepEqual(
      pairs.map((p) => [p.row1, p.row2]),
      [
        [0, 1],
        [0, 2],
        [0, 3],
        [0, 4],
        [0, 5],
        [1, 2],
        [1, 3],
      ],
    );
    assert.ok(pairs.every((p) => p.score === pairs[0]!.score));
  });

  it('returns pairs sorted by score with title, shot and row of both sides', async () => {
    const a = randomSource('a', 50, 16, 11);
    const b = randomSource('b', 40, 16, 12);
    const { pairs, stats } = await scorePairs([a, b], { k: 30, excludeSameTitle: true, kernel: onnx });
    assert.equal(pairs.length, 30);
    for (let x = 1; x < pairs.length; x++) assert.ok(pairs[x - 1]!.score >= pairs[x]!.score);
    for (const p of pairs) {
      assert.equal(p.title1, 'a');
      assert.equal(p.title2, 'b');
      assert.equal(p.shot1, a.matrix.shots[p.row1]!.shot);
    }
    assert.equal(stats.rows, 90);
    assert.equal(stats.kernel, 'onnx-gemm-rowmax');
  });

  it('skips tiles that lie inside one title when only cross-title pairs count', async () => {
    const sources = [randomSource('a', 256, 8, 21), randomSource('b', 256, 8, 22)];
    const { stats } = await scorePairs(sources, {
      k: 10,
      excludeSameTitle: true,
      blockRows: 128,
      kernel: onnx,
    });
    // 4 row blocks → 10 tiles; the 3 inside a and the 3 inside b are skipped.
    assert.equal(stats.tiles, 4);
  });

  it('excludeWithinFrames measures the gap between frame ranges of one title', async () => {
    const rows = [
      [1, 0],
      [1, 0.01],
      [1, 0.02],
    ];
    const shots = [
      { shot: 0, start: 0, end: 10 },
      { shot: 1, start: 10, end: 20 },
      { shot: 2, start: 25, end: 30 },
    ];
    const matrix = createVectorMatrix({ dim: 2, rows, shots });
    const pairsOf = async (excludeWithinFrames: number) =>
      (await scorePairs([{ id: 't', matrix }], { k: 10, excludeWithinFrames, kernel: 'js' })).pairs.map(
        (p) => `${p.shot1}-${p.shot2}`,
      );
    assert.deepEqual((await pairsOf(0)).sort(), ['0-1', '0-2', '1-2']);
    assert.deepEqual((await pairsOf(1)).sort(), ['0-2', '1-2'], 'adjacent shots are 0 frames apart');
    assert.deepEqual((await pairsOf(6)).sort(), ['0-2'], 'shots 1 and 2 are 5 frames apart');
    assert.deepEqual(await pairsOf(16), []);
  });

  it('returns fewer than k pairs when fewer exist', async () => {
    const matrix = createVectorMatrix({
      dim: 3,
      rows: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    });
    const { pairs } = await scorePairs([{ id: 't', matrix }], { k: 100, kernel: onnx });
    assert.equal(pairs.length, 3);
  });

  it('refuses bad input with a clear message', async () => {
    const a = randomSource('a', 10, 8, 31);
    const b = randomSource('b', 10, 9, 32);
    await assert.rejects(
      scorePairs([a, b], { k: 5, kernel: 'js' }),
      /dimension mismatch: b has 9-d rows, a has 8-d/,
    );
    await assert.rejects(scorePairs([], { k: 5, kernel: 'js' }), /no matrices to score/);
    await assert.rejects(scorePairs([a, a], { k: 5, kernel: 'js' }), /source a is given twice/);
    await assert.rejects(scorePairs([a], { k: 0, kernel: 'js' }), /k: k must be at least 1/);
    await assert.rejects(scorePairs([a], { k: -3, kernel: 'js' }), /k must be at least 1/);
    await assert.rejects(scorePairs([a], { k: 1e9, kernel: 'js' }), /k must be at most 100000/);
    await assert.rejects(scorePairs([a], { k: 2.5, kernel: 'js' }), /k must be an integer/);
    await assert.rejects(scorePairs([a], { k: 5, minScore: 2, kernel: 'js' }), /minScore/);
    await assert.rejects(scorePairs([a], { k: 5, blockRows: 0, kernel: 'js' }), /blockRows/);
    const broken = { id: 'x', matrix: { ...a.matrix, rows: 11 } };
    await assert.rejects(scorePairs([broken], { k: 5, kernel: 'js' }), /matrix of x is inconsistent/);
    const empty = { id: 'e', matrix: { ...a.matrix, rows: 0, data: new Float32Array(0), shots: [] } };
    await assert.rejects(scorePairs([empty], { k: 5, kernel: 'js' }), /matrix of e is empty/);
    assert.throws(
      () => scorePairsReference([a], { k: 5, excludeSameTitle: 'yes' } as never),
      /excludeSameTitle/,
    );
  });

  it('stops between tiles when aborted and reports progress', async () => {
    const a = randomSource('a', 300, 8, 41);
    const seen: number[] = [];
    const ac = new AbortController();
    await assert.rejects(
      scorePairs([a], {
        k: 5,
        blockRows: 50,
        kernel: onnx,
        signal: ac.signal,
        onProgress: (done, total) => {
          seen.push(done);
          assert.equal(total, 21);
          if (done === 3) ac.abort(new Error('stop'));
        },
      }),
      /stop/,
    );
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('bounds the kernel error by a few float32 ulps per dimension', () => {
    assert.ok(scoreErrorBound(512) > 512 * 2 ** -24);
    assert.ok(scoreErrorBound(512) < 4e-5);
  });

  it('the int8 kernel stays within the error bound it reports', async () => {
    for (const [rows, dim, seed] of [
      [200, 512, 61],
      [64, 16, 62],
      [100, 3, 63],
    ] as const) {
      const a = randomSource('a', rows, dim, seed, 9);
      const b = randomSource('b', rows, dim, seed + 100);
      const { ConcatenatedRows } = await import('../../lib/matchcut/sources.ts');
      const all = new ConcatenatedRows([a, b]);
      const s = new Float32Array(rows * rows);
      const mx = new Float32Array(rows);
      const bound = await int8.product(a.matrix.data, rows, b.matrix.data, rows, dim, s, mx);
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < rows; c++)
          worst = Math.max(worst, Math.abs(s[r * rows + c]! - all.canonicalScore(r, rows + c)));
      }
      assert.ok(worst <= bound, `dim ${dim}: error ${worst} within the bound ${bound}`);
      assert.ok(bound < 0.2, `dim ${dim}: the bound (${bound}) is useful`);
    }
  });

  it('the int8 kernel falls back to float32 for tiles whose bound would be loose', async () => {
    const kernel = await OnnxInt8BlockKernel.create({ threads: 2 });
    try {
      const dense = randomSource('d', 300, 512, 71);
      const spiky = randomSource('s', 300, 512, 72);
      spiky.matrix.data.fill(0, 0, 512);
      spiky.matrix.data[7] = 1; // a one-hot row: max |x| = 1 for its whole block
      for (const sources of [[dense], [spiky]]) {
        const got = await scorePairs(sources, { k: 50, kernel });
        assert.deepEqual(got.pairs, scorePairsReference(sources, { k: 50 }));
      }
      assert.deepEqual(kernel.tiles, { int8: 1, float32: 1 });
    } finally {
      await kernel.close();
    }
  });

  it('the block kernels agree with each other within the error bound', async () => {
    const { matrix: m } = randomSource('a', 64, 128, 51);
    const s1 = new Float32Array(64 * 64);
    const s2 = new Float32Array(64 * 64);
    const mx1 = new Float32Array(64);
    const mx2 = new Float32Array(64);
    await onnx.product(m.data, 64, m.data, 64, 128, s1, mx1);
    await new JsBlockKernel().product(m.data, 64, m.data, 64, 128, s2, mx2);
    const eps = scoreErrorBound(128);
    for (let x = 0; x < s1.length; x++) assert.ok(Math.abs(s1[x]! - s2[x]!) <= eps, `tile value ${x}`);
    for (let r = 0; r < 64; r++) assert.ok(Math.abs(mx1[r]! - 1) <= eps, 'a unit row scores 1 with itself');
  });
});

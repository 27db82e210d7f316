import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ivfJoinPairs } from '../../lib/matchcut/ivf-join.ts';
import { OnnxBlockKernel } from '../../lib/matchcut/onnx-kernel.ts';
import { scorePairs } from '../../lib/matchcut/pairs.ts';
import { clusteredCorpus, syntheticTitle } from '../../lib/matchcut/synthetic.ts';

const corpus = clusteredCorpus({
  dim: 64,
  clusters: 60,
  clustersPerTitle: 20,
  spread: 0.8,
  duplicateRate: 0.01,
  seed: 8,
});
const sources = [0, 1, 2, 3].map((t) => ({ id: `t${t}`, matrix: syntheticTitle(corpus, t, 400) }));
const key = (p: { title1: string; shot1: number; title2: string; shot2: number }) =>
  `${p.title1}/${p.shot1}-${p.title2}/${p.shot2}`;
let kernel: OnnxBlockKernel;

describe('IVF self-join (approximate top-K pairs)', () => {
  before(async () => {
    kernel = await OnnxBlockKernel.create({ threads: 2 });
  });
  after(() => kernel.close());

  it('finds nearly all of the exact top K on clustered data, with exact scores', async () => {
    const exact = await scorePairs(sources, { k: 200, kernel });
    const approx = await ivfJoinPairs(sources, { k: 200, kernel });
    assert.equal(approx.ivf.partitions, 40);
    assert.equal(approx.ivf.nprobe, 2);
    const truth = new Map(exact.pairs.map((p) => [key(p), p.score]));
    const found = approx.pairs.filter((p) => truth.has(key(p)));
    assert.ok(found.length >= 190, `recall ${found.length}/200`);
    for (const p of found) assert.equal(p.score, truth.get(key(p)), 'a found pair has its exact score');
    assert.ok(approx.stats.flops < exact.stats.flops / 3, 'and costs a fraction of the exact work');
  });

  it('is the exact answer when every row joins every partition, filters included', async () => {
    for (const filters of [{}, { excludeSameTitle: true }, { excludeWithinFrames: 500, minScore: 0.1 }]) {
      const exact = await scorePairs(sources, { k: 100, kernel, ...filters });
      const all = await ivfJoinPairs(sources, {
        k: 100,
        kernel,
        ...filters,
        ivf: { partitions: 5, nprobe: 5 },
      });
      assert.deepEqual(all.pairs, exact.pairs, JSON.stringify(filters));
    }
  });

  it('is deterministic (seeded k-means) and counts a pair once', async () => {
    const a = await ivfJoinPairs(sources, { k: 300, kernel, ivf: { nprobe: 3 } });
    const b = await ivfJoinPairs(sources, { k: 300, kernel, ivf: { nprobe: 3 } });
    assert.deepEqual(a.pairs, b.pairs);
    assert.equal(new Set(a.pairs.map(key)).size, a.pairs.length, 'no pair twice');
  });

  it('refuses bad options like the exact path', async () => {
    await assert.rejects(ivfJoinPairs(sources, { k: 0, kernel }), /k must be at least 1/);
    await assert.rejects(ivfJoinPairs([], { k: 5, kernel }), /no matrices to score/);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalQuery, matchCutCacheKey } from '../../lib/matchcut/cache-key.ts';
import { OnnxBlockKernel } from '../../lib/matchcut/onnx-kernel.ts';
import { type LoadTitleMatrix, matchCutQuery } from '../../lib/matchcut/query.ts';
import { scorePairsReference } from '../../lib/matchcut/reference.ts';
import { clusteredCorpus, syntheticTitle } from '../../lib/matchcut/synthetic.ts';
import { joinAssetMatrices } from '../../lib/matchcut/title-matrix.ts';
import { LanceVectorIndex } from '../../lib/vector/lance-index.ts';
import type { VectorMatrix } from '../../lib/vector/matrix.ts';

const corpus = clusteredCorpus({
  dim: 32,
  clusters: 12,
  clustersPerTitle: 5,
  spread: 0.8,
  duplicateRate: 0.05,
  seed: 3,
});
const titles: Record<string, VectorMatrix> = {
  gamma: syntheticTitle(corpus, 0, 120),
  alpha: syntheticTitle(corpus, 1, 90),
  beta: syntheticTitle(corpus, 2, 150),
};
// A title of two video assets: each numbers its shots from 0; the title numbers them one after the other.
const deltaAssets = [
  { asset: 'asset-delta-1', frameRate: '24/1', matrix: syntheticTitle(corpus, 3, 60) },
  { asset: 'asset-delta-2', frameRate: '24/1', matrix: syntheticTitle(corpus, 4, 70) },
];
const delta = joinAssetMatrices(deltaAssets);
const FEATURE = 'matchcut-repr:frame';
const load: LoadTitleMatrix = async (title, flavor) => {
  assert.equal(flavor, 'frame');
  if (title === 'delta') return { matrix: delta.matrix, feature: FEATURE, version: 2, assets: delta.spans };
  const matrix = titles[title];
  if (!matrix) throw new Error(`no title ${title}`);
  return { matrix, feature: FEATURE, version: 2 };
};

let kernel: OnnxBlockKernel;
let dir: string;
let index: LanceVectorIndex;

describe('cross-title match-cut query', () => {
  before(async () => {
    kernel = await OnnxBlockKernel.create({ threads: 2 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-mcq-'));
    index = await LanceVectorIndex.open({ dir });
    for (const [i, [title, m]] of Object.entries(titles).entries()) {
      await index.upsertEntity({
        feature: FEATURE,
        version: 2,
        entityKey: `asset-${title}`,
        titleId: title,
        valueId: String(i + 1),
        dim: m.dim,
        data: m.data,
        shots: m.shots.map((s) => s.shot),
      });
    }
    for (const [i, a] of deltaAssets.entries()) {
      await index.upsertEntity({
        feature: FEATURE,
        version: 2,
        entityKey: a.asset,
        titleId: 'delta',
        valueId: String(10 + i),
        dim: a.matrix.dim,
        data: a.matrix.data,
        shots: a.matrix.shots.map((s) => s.shot),
      });
    }
  });
  after(async () => {
    await kernel.close();
    await index.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const reference = (names: string[], k: number, filters = {}) =>
    scorePairsReference(
      [...names].sort().map((id) => ({ id, matrix: titles[id]! })),
      { k, ...filters },
    ).map(({ title1, shot1, title2, shot2, score }) => ({ title1, shot1, title2, shot2, score }));
  const strip = (pairs: { title1: string; shot1: number; title2: string; shot2: number; score: number }[]) =>
    pairs.map(({ title1, shot1, title2, shot2, score }) => ({ title1, shot1, title2, shot2, score }));

  it('scores small subsets exactly, whatever the order of the titles', async () => {
    const a = await matchCutQuery(
      { titles: ['gamma', 'alpha', 'beta'], flavor: 'frame', k: 60 },
      { loadTitleMatrix: load, kernel },
    );
    const b = await matchCutQuery(
      { titles: ['beta', 'gamma', 'alpha'], flavor: 'frame', k: 60 },
      { loadTitleMatrix: load, kernel },
    );
    assert.equal(a.method, 'exact');
    assert.equal(a.shots, 360);
    assert.deepEqual(strip(a.pairs), reference(['alpha', 'beta', 'gamma'], 60));
    assert.deepEqual(a.pairs, b.pairs);
    assert.equal(a.cacheKey, b.cacheKey);
    const p = a.pairs[0]!;
    assert.deepEqual(p.frames1, [p.shot1 * 48, p.shot1 * 48 + 48]);
  });

  it('applies the filters', async () => {
    const filters = { excludeSameTitle: true, minScore: 0.2 };
    const r = await matchCutQuery(
      { titles: ['alpha', 'beta'], flavor: 'frame', k: 40, filters },
      { loadTitleMatrix: load, kernel },
    );
    assert.ok(r.pairs.every((p) => p.title1 !== p.title2 && p.score >= 0.2));
    assert.deepEqual(strip(r.pairs), reference(['alpha', 'beta'], 40, filters));
  });

  it('goes approximate above the exact limit (IVF join by default)', async () => {
    const exact = await matchCutQuery(
      { titles: ['alpha', 'beta', 'gamma'], flavor: 'frame', k: 50 },
      { loadTitleMatrix: load, kernel },
    );
    const ivf = await matchCutQuery(
      { titles: ['gamma', 'beta', 'alpha'], flavor: 'frame', k: 50 },
      { loadTitleMatrix: load, kernel, exactMaxShots: 200 },
    );
    assert.equal(ivf.method, 'ann-ivf');
    const truth = new Set(exact.pairs.map((p) => `${p.title1}/${p.shot1}-${p.title2}/${p.shot2}`));
    const found = ivf.pairs.filter((p) => truth.has(`${p.title1}/${p.shot1}-${p.title2}/${p.shot2}`)).length;
    assert.ok(found >= 45, `recall ${found}/50`);
    // Every partition probed: every pair shares one, so the answer is the exact one, scores included.
    const all = await matchCutQuery(
      { titles: ['alpha', 'beta', 'gamma'], flavor: 'frame', k: 50, mode: 'ann' },
      { loadTitleMatrix: load, kernel, ivf: { partitions: 6, nprobe: 6 } },
    );
    assert.deepEqual(all.pairs, exact.pairs);
  });

  it('goes through the vector index when asked and finds the exact answer on easy data', async () => {
    const exact = await matchCutQuery(
      { titles: ['alpha', 'beta', 'gamma'], flavor: 'frame', k: 50 },
      { loadTitleMatrix: load, kernel },
    );
    const approx = await matchCutQuery(
      { titles: ['alpha', 'beta', 'gamma'], flavor: 'frame', k: 50 },
      { loadTitleMatrix: load, index, exactMaxShots: 200, perShotK: 50, annMethod: 'index' },
    );
    assert.equal(approx.method, 'ann-index');
    // A table this small is searched exhaustively by the index: same pairs, scores equal up to rounding.
    assert.deepEqual(
      approx.pairs.map((p) => `${p.title1}/${p.shot1}-${p.title2}/${p.shot2}`),
      exact.pairs.map((p) => `${p.title1}/${p.shot1}-${p.title2}/${p.shot2}`),
    );
    for (const [i, p] of approx.pairs.entries()) assert.ok(Math.abs(p.score - exact.pairs[i]!.score) < 1e-5);
    const filtered = await matchCutQuery(
      {
        titles: ['alpha', 'gamma'],
        flavor: 'frame',
        k: 30,
        mode: 'ann',
        filters: { excludeWithinFrames: 200 },
      },
      { loadTitleMatrix: load, index, perShotK: 60, annMethod: 'index' },
    );
    const expected = await matchCutQuery(
      {
        titles: ['alpha', 'gamma'],
        flavor: 'frame',
        k: 30,
        mode: 'exact',
        filters: { excludeWithinFrames: 200 },
      },
      { loadTitleMatrix: load, kernel },
    );
    assert.deepEqual(
      filtered.pairs.map((p) => [p.title1, p.shot1, p.title2, p.shot2]),
      expected.pairs.map((p) => [p.title1, p.shot1, p.title2, p.shot2]),
    );
  });

  it("places the index's hits of a title with several assets on the title's own shot numbers", async () => {
    const query = { titles: ['alpha', 'delta'], flavor: 'frame', k: 60 };
    const exact = await matchCutQuery(query, { loadTitleMatrix: load, kernel });
    const approx = await matchCutQuery(
      { ...query, mode: 'ann' },
      { loadTitleMatrix: load, index, perShotK: 60, annMethod: 'index' },
    );
    assert.equal(approx.method, 'ann-index');
    assert.equal(exact.shots, 90 + 130);
    // Pairs inside the second asset and across the two: both sides numbered as the title numbers them.
    assert.ok(exact.pairs.some((p) => p.title1 === 'delta' && p.shot1 >= 60));
    assert.deepEqual(
      approx.pairs.map((p) => [p.title1, p.shot1, p.title2, p.shot2, p.frames1, p.frames2]),
      exact.pairs.map((p) => [p.title1, p.shot1, p.title2, p.shot2, p.frames1, p.frames2]),
    );
  });

  it('refuses bad queries with clear messages', async () => {
    const deps = { loadTitleMatrix: load, kernel };
    await assert.rejects(matchCutQuery({ titles: [], flavor: 'frame', k: 5 }, deps), /at least one title/);
    await assert.rejects(
      matchCutQuery({ titles: ['alpha', 'alpha'], flavor: 'frame', k: 5 }, deps),
      /title alpha is given twice/,
    );
    await assert.rejects(matchCutQuery({ titles: ['alpha'], flavor: 'Frame!', k: 5 }, deps), /flavor/);
    await assert.rejects(
      matchCutQuery({ titles: ['alpha'], flavor: 'frame', k: 0 }, deps),
      /k must be at least 1/,
    );
    await assert.rejects(
      matchCutQuery({ titles: ['alpha'], flavor: 'frame', k: 10 ** 7 }, deps),
      /k must be at most/,
    );
    await assert.rejects(matchCutQuery({ titles: ['nope'], flavor: 'frame', k: 5 }, deps), /no title nope/);
    const mixed: LoadTitleMatrix = async (t, f) => ({ ...(await load(t, f)), version: t === 'beta' ? 3 : 2 });
    await assert.rejects(
      matchCutQuery({ titles: ['alpha', 'beta'], flavor: 'frame', k: 5 }, { loadTitleMatrix: mixed }),
      /titles disagree on the representation: beta has matchcut-repr:frame@3, others matchcut-repr:frame@2/,
    );
    const other = syntheticTitle(clusteredCorpus({ dim: 16, clusters: 2 }), 0, 10);
    const wrongDim: LoadTitleMatrix = async (t, f) =>
      t === 'beta' ? { matrix: other, feature: FEATURE, version: 2 } : load(t, f);
    await assert.rejects(
      matchCutQuery({ titles: ['alpha', 'beta'], flavor: 'frame', k: 5 }, { loadTitleMatrix: wrongDim }),
      /dimension mismatch: beta has 16-d vectors, others 32-d/,
    );
    await assert.rejects(
      matchCutQuery(
        { titles: ['alpha', 'beta'], flavor: 'frame', k: 5, mode: 'ann' },
        { loadTitleMatrix: load, annMethod: 'index' },
      ),
      /the 'index' ANN method needs the vector index/,
    );
    const unsynced: LoadTitleMatrix = async (t, f) => ({ ...(await load(t, f)), version: 9 });
    await assert.rejects(
      matchCutQuery(
        { titles: ['alpha'], flavor: 'frame', k: 5, mode: 'ann' },
        { loadTitleMatrix: unsynced, index, annMethod: 'index' },
      ),
      /the vector index holds 0 of the subset's 90 matchcut-repr:frame@9 vectors/,
    );
  });

  it('keys memoized answers by sorted titles, flavor, k, filters and feature versions', () => {
    const base = {
      titles: ['b', 'a'],
      flavor: 'frame',
      k: 50,
      featureVersions: { 'matchcut-repr:frame': 2 },
    };
    const key = matchCutCacheKey(base);
    assert.match(key, /^matchcut-query\/v1\/[0-9a-f]{64}$/);
    assert.equal(matchCutCacheKey({ ...base, titles: ['a', 'b'] }), key);
    assert.equal(
      matchCutCacheKey({ ...base, filters: { excludeWithinFrames: 0 } }),
      key,
      'defaults do not change it',
    );
    for (const changed of [
      { ...base, titles: ['a', 'b', 'c'] },
      { ...base, flavor: 'motion' },
      { ...base, k: 51 },
      { ...base, filters: { excludeSameTitle: true } },
      { ...base, featureVersions: { 'matchcut-repr:frame': 3 } },
    ]) {
      assert.notEqual(matchCutCacheKey(changed), key, JSON.stringify(changed));
    }
    assert.deepEqual(canonicalQuery(base).titles, ['a', 'b']);
    assert.throws(() => matchCutCacheKey({ ...base, titles: ['a', 'a'] }), /title a is given twice/);
    assert.throws(() => matchCutCacheKey({ ...base, k: 0 }), /k must be at least 1/);
  });
});

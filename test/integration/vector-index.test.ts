// The same behaviour checks against both vector index backends: the embedded LanceDB index always, Qdrant
// when QDRANT_URL points at a server (collections are named per run, so a shared server is fine).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LanceVectorIndex } from '../../lib/vector/lance-index.ts';
import { createVectorMatrix } from '../../lib/vector/matrix.ts';
import { QdrantVectorIndex } from '../../lib/vector/qdrant-index.ts';
import { type EntityVectors, pointId, type VectorIndex } from '../../lib/vector/vector-index.ts';

const DIM = 16;

function unit(seed: number): number[] {
  const v = Array.from({ length: DIM }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 43758.5453);
  return v.map((x) => x - Math.floor(x) - 0.5);
}

function entity(
  feature: string,
  entityKey: string,
  titleId: string,
  valueId: number,
  seeds: number[],
): EntityVectors {
  const m = createVectorMatrix({ dim: DIM, rows: seeds.map(unit) });
  return {
    feature,
    version: 1,
    entityKey,
    titleId,
    valueId: String(valueId),
    dim: DIM,
    data: m.data,
    shots: seeds.map((_, s) => s),
  };
}

const cosine = (a: number[], b: number[]) => {
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  return a.reduce((s, x, i) => s + x * b[i]!, 0) / (na * nb);
};

function suite(name: string, open: () => Promise<VectorIndex>, skip: string | false) {
  describe(`vector index: ${name}`, { skip }, () => {
    let index: VectorIndex;
    const feature = `vtest-${crypto.randomBytes(4).toString('hex')}`;
    const key = { feature, version: 1 };
    before(async () => {
      index = await open();
      await index.upsertEntity(entity(feature, 'asset-a', 'title-a', 10, [1, 2, 3, 4]));
      await index.upsertEntity(entity(feature, 'asset-b', 'title-b', 11, [5, 6, 7]));
      await index.upsertEntity(entity(feature, 'asset-c', "title-'c'", 12, [8, 9]));
    });
    after(() => index?.close());

    it('upserts idempotently under deterministic point ids', async () => {
      assert.equal(await index.count(key), 9);
      const again = await index.upsertEntity(entity(feature, 'asset-a', 'title-a', 10, [1, 2, 3, 4]));
      assert.deepEqual(again, { points: 4, stale: false });
      assert.equal(await index.count(key), 9);
      assert.equal(await index.count({ ...key, titleIds: ['title-a', "title-'c'"] }), 6);
      const [hit] = await index.query({ ...key, vector: unit(2), k: 1 });
      assert.equal(hit!.id, pointId(feature, 1, 'asset-a', 1));
    });

    it('finds the k nearest by cosine, restricted to a set of titles', async () => {
      const q = unit(6);
      const all = await index.query({ ...key, vector: q, k: 3 });
      assert.equal(all[0]!.entityKey, 'asset-b');
      assert.equal(all[0]!.shot, 1);
      assert.ok(Math.abs(all[0]!.score - 1) < 1e-5);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.score >= all[i]!.score);
      const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9];
      const expected = seeds
        .map((s) => cosine(q, unit(s)))
        .sort((a, b) => b - a)
        .slice(0, 3);
      for (const [i, h] of all.entries()) assert.ok(Math.abs(h.score - expected[i]!) < 1e-5, `hit ${i}`);
      const filtered = await index.query({ ...key, vector: q, k: 10, titleIds: ['title-a', "title-'c'"] });
      assert.equal(filtered.length, 6);
      assert.ok(filtered.every((h) => h.titleId === 'title-a' || h.titleId === "title-'c'"));
      assert.deepEqual(await index.query({ ...key, vector: q, k: 5, titleIds: [] }), []);
      assert.deepEqual(await index.query({ feature: `${feature}-none`, version: 1, vector: q, k: 5 }), []);
    });

    it('answers a batch exactly as the single queries, in order', async () => {
      const queries = [1, 5, 9, 3].map((s, i) => ({
        ...key,
        vector: unit(s),
        k: 2 + (i % 2),
        ...(i === 2 ? { titleIds: ['title-b'] } : {}),
      }));
      const batch = await index.queryBatch(queries);
      const single = await Promise.all(queries.map((q) => index.query(q)));
      assert.deepEqual(batch, single);
      assert.equal(batch[0]![0]!.shot, 0);
      assert.ok(batch[2]!.every((h) => h.titleId === 'title-b'));
    });

    it('a newer value replaces the entity, an older one is ignored', async () => {
      const newer = await index.upsertEntity(entity(feature, 'asset-b', 'title-b', 20, [30, 31]));
      assert.deepEqual(newer, { points: 2, stale: false });
      assert.equal(await index.count({ ...key, titleIds: ['title-b'] }), 2);
      const [hit] = await index.query({ ...key, vector: unit(31), k: 1 });
      assert.deepEqual([hit!.entityKey, hit!.shot], ['asset-b', 1]);
      const older = await index.upsertEntity(entity(feature, 'asset-b', 'title-b', 11, [5, 6, 7]));
      assert.deepEqual(older, { points: 0, stale: true });
      assert.equal(await index.count({ ...key, titleIds: ['title-b'] }), 2);
    });

    it('a newer value with no vectors (blank shots only) retires the entity, idempotently', async () => {
      await index.upsertEntity(entity(feature, 'asset-d', 'title-d', 40, [40, 41]));
      assert.equal(await index.count({ ...key, titleIds: ['title-d'] }), 2);
      for (let i = 0; i < 2; i++) {
        const empty = await index.upsertEntity(entity(feature, 'asset-d', 'title-d', 41, []));
        assert.deepEqual(empty, { points: 0, stale: false });
        assert.equal(await index.count({ ...key, titleIds: ['title-d'] }), 0);
      }
      const hits = await index.query({ ...key, vector: unit(40), k: 20 });
      assert.ok(hits.every((h) => h.entityKey !== 'asset-d'));
    });

    it('refuses bad vectors and queries', async () => {
      const wrongDim = {
        ...entity(feature, 'asset-x', 'title-x', 30, [1]),
        dim: 8,
        data: new Float32Array(8),
      };
      await assert.rejects(index.upsertEntity(wrongDim), /holds 16-d vectors; got 8-d/);
      await assert.rejects(index.query({ ...key, vector: [1, 2], k: 1 }), /query vector has 2 values/);
      await assert.rejects(index.query({ ...key, vector: unit(1), k: 0 }), /k must be at least 1/);
      await assert.rejects(index.query({ ...key, vector: unit(1).fill(Number.NaN), k: 1 }), /non-finite/);
      const ragged = { ...entity(feature, 'asset-y', 'title-y', 31, [1, 2]), shots: [0] };
      await assert.rejects(index.upsertEntity(ragged), /32 values for 1 rows of 16/);
      const badId = { ...entity(feature, 'asset-y', 'title-y', 31, [1]), valueId: 'x' };
      await assert.rejects(index.upsertEntity(badId), /valueId: must be a decimal value id/);
    });

    it('optimize builds the ANN structures and queries keep working', async () => {
      const big = `${feature}-big`;
      const seeds = Array.from({ length: 400 }, (_, i) => 100 + i);
      await index.upsertEntity({ ...entity(big, 'asset-big', 'title-big', 40, seeds), feature: big });
      await index.optimize({ feature: big, version: 1 });
      const hits = await index.query({ feature: big, version: 1, vector: unit(250), k: 5 });
      assert.equal(hits[0]!.shot, 150);
      assert.ok(hits[0]!.score > 0.9999);
      assert.equal(await index.count({ feature: big, version: 1 }), 400);
    });
  });
}

let dir: string;
suite(
  'embedded (LanceDB)',
  async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-lance-'));
    return LanceVectorIndex.open({ dir, annMinRows: 200 });
  },
  false,
);
after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

const qdrantUrl = process.env.QDRANT_URL;
suite(
  'Qdrant',
  async () =>
    new QdrantVectorIndex({
      url: qdrantUrl!,
      ...(process.env.QDRANT_API_KEY ? { apiKey: process.env.QDRANT_API_KEY } : {}),
    }),
  qdrantUrl
    ? false
    : 'QDRANT_URL is not set: no Qdrant server to test against (set it, e.g. http://127.0.0.1:6333, to run these)',
);

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../lib/config/config.ts';
import { findMediaTools, runTool } from '../../lib/media/tools.ts';
import {
  LAYOUT_BLOCKS,
  LAYOUT_DIM,
  LAYOUT_HEIGHT,
  LAYOUT_WIDTH,
  layoutGraph,
  layoutManifest,
  layoutModel,
  layoutReference,
} from '../../lib/models/layout.ts';
import { sha256 } from '../../lib/models/registry.ts';
import { type ModelRunner, modelOpset, openModelRunner } from '../../lib/models/runner.ts';
import { buildModel } from '../../lib/onnx/graph.ts';

const PER = LAYOUT_WIDTH * LAYOUT_HEIGHT * 3;

/** Photographs from lomiri-wallpapers-16.04 / -20.04 (installed by scripts/setup.sh). */
const PHOTOS = [
  'Bridge_by_Sander_Klootwijk.jpg',
  'Dragonfly_by_Bolly.jpg',
  'Wine_by_Jakkub_Mede.jpg',
  'aitzgorri_by_Aitzol_Berasategi.jpg',
  'greentock_by_Peter_Nerlich.jpg',
  'sunset_by_Aitzol_Berasategi.jpg',
  'Fossa_by_Jasper_Roks.jpg',
  'Kleiber_by_Lukas_Baubkus.jpg',
].map((f) => `/usr/share/backgrounds/${f}`);
const photosMissing = PHOTOS.filter((p) => !fs.existsSync(p));

function randomFrames(n: number, seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
  return Array.from({ length: n }, () => Uint8Array.from({ length: PER }, next));
}

const flat = (r: number, g: number, b: number) =>
  Uint8Array.from({ length: PER }, (_, i) => [r, g, b][i % 3]!);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const row = (rows: Float32Array, i: number) => rows.subarray(i * LAYOUT_DIM, (i + 1) * LAYOUT_DIM);
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

let runner: ModelRunner;

describe('built-in layout model', () => {
  before(async () => {
    runner = await openModelRunner(layoutManifest, { executionProviders: ['cuda', 'cpu'], threads: 2 });
  });
  after(() => runner.close());

  it('is an opset-17 ONNX graph with deterministic bytes', () => {
    const bytes = layoutModel();
    assert.ok(modelOpset(bytes)! >= 17);
    assert.equal(modelOpset(bytes), layoutManifest.opset);
    assert.equal(sha256(buildModel(layoutGraph())), sha256(bytes));
    assert.equal(runner.modelSha256, sha256(bytes));
    assert.equal(runner.dim, LAYOUT_DIM);
    assert.equal(LAYOUT_DIM, 224);
    assert.deepEqual(runner.providers.at(-1), 'cpu');
  });

  it('agrees with the plain-TS reference on random frames', async () => {
    const frames = randomFrames(6, 7);
    const onnx = await runner.embed(frames);
    const ref = layoutReference(frames);
    assert.ok(maxAbsDiff(onnx, ref) <= 1e-4, `max abs diff ${maxAbsDiff(onnx, ref)}`);
    for (let i = 0; i < frames.length; i++) assert.ok(Math.abs(dot(row(onnx, i), row(onnx, i)) - 1) < 1e-4);
  });

  it('gives a flat frame no edges and no layout: only its chroma, never NaN', async () => {
    const frames = [
      flat(0, 0, 0),
      flat(128, 128, 128),
      flat(255, 255, 255),
      flat(200, 30, 30),
      flat(200, 30, 30),
    ];
    const onnx = await runner.embed(frames);
    assert.ok(maxAbsDiff(onnx, layoutReference(frames)) <= 1e-4);
    assert.ok(onnx.every(Number.isFinite));
    for (let i = 0; i < 3; i++)
      assert.ok(
        row(onnx, i).every((v) => Math.abs(v) < 1e-5),
        `flat grey ${i} is zero`,
      );
    const red = row(onnx, 3);
    const chromaStart = LAYOUT_BLOCKS.edges.dim + LAYOUT_BLOCKS.luma.dim;
    assert.ok(red.subarray(0, chromaStart).every((v) => Math.abs(v) < 1e-5));
    assert.ok(Math.abs(dot(red, red) - 1) < 1e-4);
    assert.ok(Math.abs(dot(red, row(onnx, 4)) - 1) < 1e-4);
  });

  it('agrees with the reference on photographs, and tells a shifted crop from another photo', {
    skip: photosMissing.length
      ? `missing ${photosMissing.join(', ')} (scripts/setup.sh installs them)`
      : false,
  }, async () => {
    const tools = findMediaTools(loadConfig());
    assert.ok(tools, 'ffmpeg');
    // Per photo, two 90% crops offset by 3% of the width and 2% of the height, stacked: one ffmpeg run each.
    const pairs = await Promise.all(
      PHOTOS.map(async (file) => {
        const crop = (dx: number, dy: number) =>
          `crop=iw*0.9:ih*0.9:iw*${dx}:ih*${dy},scale=${LAYOUT_WIDTH}:${LAYOUT_HEIGHT}`;
        const out = await runTool(tools.ffmpeg, [
          ...['-v', 'error', '-i', file, '-filter_complex'],
          `[0]split[a][b];[a]${crop(0.03, 0.03)}[a1];[b]${crop(0.06, 0.05)}[b1];[a1][b1]vstack`,
          ...['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
        ]);
        assert.equal(out.length, 2 * PER);
        return [new Uint8Array(out.subarray(0, PER)), new Uint8Array(out.subarray(PER))] as const;
      }),
    );
    const a = pairs.map((p) => p[0]);
    const b = pairs.map((p) => p[1]);
    const ea = await runner.embed(a);
    const eb = await runner.embed(b);
    assert.ok(
      maxAbsDiff(ea, layoutReference(a)) <= 1e-4,
      `max abs diff ${maxAbsDiff(ea, layoutReference(a))}`,
    );
    assert.ok(maxAbsDiff(eb, layoutReference(b)) <= 1e-4);
    let unrelated = 0;
    for (let i = 0; i < PHOTOS.length; i++) {
      const same = dot(row(ea, i), row(eb, i));
      assert.ok(same > 0.9, `${PHOTOS[i]}: shifted crop cosine ${same.toFixed(3)}`);
      for (let j = 0; j < PHOTOS.length; j++) {
        if (j === i) continue;
        const other = dot(row(ea, i), row(eb, j));
        unrelated += other;
        assert.ok(other < same, `${PHOTOS[i]} vs ${PHOTOS[j]}: ${other.toFixed(3)} ≥ ${same.toFixed(3)}`);
      }
    }
    unrelated /= PHOTOS.length * (PHOTOS.length - 1);
    assert.ok(unrelated < 0.4, `mean cosine of unrelated photos ${unrelated.toFixed(3)}`);
  });

  it('runs batched (ms per frame at batch 32)', async (t) => {
    const frames = randomFrames(64, 11);
    await runner.embed(frames.slice(0, 32)); // warm-up
    const started = performance.now();
    const rows = await runner.embed(frames);
    const ms = (performance.now() - started) / frames.length;
    assert.equal(rows.length, 64 * LAYOUT_DIM);
    t.diagnostic(`layout: ${ms.toFixed(2)} ms/frame at batch 32 on ${runner.providers.join(',')}`);
  });
});

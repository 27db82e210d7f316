import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { ModelManifestError, modelManifestSchema } from '../../lib/models/manifest.ts';
import { resolveExecutionProviders, supportedBackends } from '../../lib/models/providers.ts';
import { builtinModelManifests, findModel, ModelNotFoundError, sha256 } from '../../lib/models/registry.ts';
import { modelOpset, openModelRunner } from '../../lib/models/runner.ts';
import { buildModel } from '../../lib/onnx/graph.ts';

/** A user model: NHWC [N, 4, 6, 3] → the per-channel mean [N, 3]. */
function tinyModel(): Uint8Array {
  return buildModel({
    name: 'tiny',
    inputs: [{ name: 'image', type: 'float32', shape: ['n', 4, 6, 3] }],
    outputs: [{ name: 'vec', type: 'float32', shape: ['n', 3] }],
    nodes: [
      {
        op: 'ReduceMean',
        inputs: ['image'],
        outputs: ['vec'],
        attrs: { axes: [1, 2], keepdims: { int: 0 } },
      },
    ],
  });
}

const tinyManifest = {
  name: 'tiny',
  version: 2,
  description: 'per-channel mean',
  input: { name: 'image', width: 6, height: 4, layout: 'NHWC', colorOrder: 'bgr', scale: 1, mean: [0, 0, 0] },
  output: { name: 'vec', dim: 3, normalize: true },
  opset: 17,
};

let dir: string;

function writeManifest(name: string, value: unknown): void {
  fs.writeFileSync(path.join(dir, `${name}.json`), typeof value === 'string' ? value : JSON.stringify(value));
}

describe('model manifests and registry', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-models-'));
    fs.writeFileSync(path.join(dir, 'tiny.onnx'), tinyModel());
    writeManifest('tiny', tinyManifest);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has the built-in layout model', async () => {
    const names = builtinModelManifests().map((m) => m.name);
    assert.ok(names.includes('layout'));
    const layout = await findModel('layout', dir);
    assert.equal(layout.source.kind, 'builtin');
    assert.equal(layout.version, 1);
    assert.ok(layout.opset >= 17);
    // Copies: altering one does not alter the registry.
    layout.version = 99;
    assert.equal((await findModel('layout', dir)).version, 1);
  });

  it('reads a user manifest beside its model, with defaults and the path made absolute', async () => {
    const m = await findModel('tiny', dir);
    assert.deepEqual(m.source, { kind: 'file', path: path.join(dir, 'tiny.onnx') });
    assert.deepEqual(m.input.std, [1, 1, 1]);
    assert.equal(m.input.resize, 'stretch');
    assert.equal(m.input.channels, 3);
  });

  it('lists what exists when a model is unknown', async () => {
    await assert.rejects(findModel('clip', dir), (e: unknown) => {
      assert.ok(e instanceof ModelNotFoundError);
      assert.deepEqual(e.available, ['layout', 'tiny']);
      assert.match(e.message, /no model 'clip'; available: layout, tiny/);
      return true;
    });
    // Built-in models need no models dir; a missing dir just has no user models.
    assert.equal((await findModel('layout', '/nonexistent')).name, 'layout');
    await assert.rejects(findModel('x', path.join(dir, 'missing')), /available: layout$/);
  });

  it('names the file and each offending field of an invalid manifest', async () => {
    writeManifest('bad', {
      ...tinyManifest,
      name: 'bad',
      input: { ...tinyManifest.input, width: -3, layout: 'CHW' },
      output: { name: 'vec' },
    });
    await assert.rejects(findModel('bad', dir), (e: unknown) => {
      assert.ok(e instanceof ModelManifestError);
      assert.ok(e.message.includes(path.join(dir, 'bad.json')), e.message);
      assert.match(e.message, /input\.width: /);
      assert.match(e.message, /input\.layout: /);
      assert.match(e.message, /output\.dim: /);
      return true;
    });
    writeManifest('broken', '{"name": ');
    await assert.rejects(findModel('broken', dir), /broken\.json is not valid JSON/);
    writeManifest('renamed', { ...tinyManifest });
    await assert.rejects(findModel('renamed', dir), /name: 'tiny' must match the file name 'renamed'/);
    assert.equal(
      modelManifestSchema.safeParse({ ...tinyManifest, name: 'Tiny', source: { kind: 'builtin' } }).success,
      false,
    );
    for (const f of ['bad', 'broken', 'renamed']) fs.rmSync(path.join(dir, `${f}.json`));
  });

  it('keeps only the execution providers this build can load, CPU last', () => {
    const loadable = supportedBackends()
      .filter((b) => b.available)
      .map((b) => b.name);
    assert.ok(loadable.includes('cpu'));
    const r = resolveExecutionProviders(['CUDAExecutionProvider', 'cuda', 'cpu']);
    if (loadable.includes('cuda')) assert.deepEqual(r, { providers: ['cuda', 'cpu'], skipped: [] });
    else assert.deepEqual(r, { providers: ['cpu'], skipped: ['cuda'] });
    assert.deepEqual(resolveExecutionProviders(['no-such-ep']), {
      providers: ['cpu'],
      skipped: ['no-such-ep'],
    });
    assert.deepEqual(resolveExecutionProviders([]).providers, ['cpu']);
    // The binding's own list, for the record.
    assert.ok(ort.listSupportedBackends().some((b) => b.name === 'cpu'));
  });

  it('runs a user model through the runner: layout, channel order, normalization, batching', async () => {
    const m = await findModel('tiny', dir);
    const runner = await openModelRunner(m, {
      executionProviders: ['cuda', 'cpu'],
      threads: 1,
      batchSize: 2,
    });
    try {
      assert.equal(runner.dim, 3);
      assert.equal(runner.providers.at(-1), 'cpu');
      assert.equal(runner.modelSha256, sha256(fs.readFileSync(path.join(dir, 'tiny.onnx'))));
      const frame = (r: number, g: number, b: number) =>
        Uint8Array.from({ length: 6 * 4 * 3 }, (_, i) => [r, g, b][i % 3]!);
      const rows = await runner.embed([frame(0, 30, 40), frame(10, 0, 0), frame(3, 4, 0)]);
      // BGR order: row = (b, g, r) / ‖·‖.
      const expect = [0.8, 0.6, 0, 0, 0, 1, 0, 0.8, 0.6];
      for (const [i, v] of rows.entries()) assert.ok(Math.abs(v - expect[i]!) < 1e-6, `${i}: ${v}`);
      await assert.rejects(runner.embed([new Uint8Array(5)]), /frame 0 has 5 bytes, expected 72/);
      assert.deepEqual(await runner.embed([]), new Float32Array(0));
    } finally {
      await runner.close();
    }
  });

  it('refuses a model that does not match its manifest', async () => {
    const m = await findModel('tiny', dir);
    const open = (patch: object) =>
      openModelRunner({ ...m, ...patch }, { executionProviders: ['cpu'], threads: 1 });
    await assert.rejects(open({ opset: 13 }), /manifest says opset 13, the model file imports 17/);
    await assert.rejects(
      open({ input: { ...m.input, name: 'pixels' } }),
      /no input 'pixels'; the model's inputs: image/,
    );
    await assert.rejects(
      open({ output: { ...m.output, name: 'emb' } }),
      /no output 'emb'; the model's outputs: vec/,
    );
    await assert.rejects(open({ input: { ...m.input, layout: 'NCHW' } }), /has shape \[n, 4, 6, 3\]/);
    await assert.rejects(open({ output: { ...m.output, dim: 4 } }), /the manifest says dim 4/);
    await assert.rejects(
      open({ source: { ...m.source, sha256: '0'.repeat(64) } }),
      /tiny\.onnx has sha256 [0-9a-f]{64}, the manifest expects 0{64}/,
    );
    assert.equal(modelOpset(tinyModel()), 17);
  });
});

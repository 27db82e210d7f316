import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { builtinFeatures } from '../../activities/features/index.ts';
import { type AnyFeature, defineFeature } from '../../lib/features/definition.ts';
import { canonicalJson, normalizeParams } from '../../lib/features/params.ts';
import { featureWorkflowId } from '../../lib/features/refs.ts';
import { FeatureGraphError, FeatureRegistry, importFeatureModules } from '../../lib/features/registry.ts';

function feature(
  name: string,
  dependencies: string[] = [],
  entityType: 'asset' | 'title' = 'asset',
): AnyFeature {
  return defineFeature({
    name,
    version: 1,
    description: name,
    module: import.meta.url,
    entityType,
    taskQueue: 'cpu',
    dependencies,
    output: z.object({}),
    async compute() {
      return {};
    },
  });
}

describe('feature registry', () => {
  it('accepts the built-in features', () => {
    const registry = new FeatureRegistry(builtinFeatures);
    assert.deepEqual(
      registry.closure('asset-summary').map((f) => f.name),
      ['asset-bytes', 'media-probe', 'frame-signature', 'asset-summary'],
    );
  });

  it('rejects a dependency cycle and names it', () => {
    assert.throws(
      () => new FeatureRegistry([feature('a', ['c']), feature('b', ['a']), feature('c', ['b'])]),
      (err: Error) =>
        err instanceof FeatureGraphError && /dependency cycle: a -> c -> b -> a/.test(err.message),
    );
  });

  it('rejects a self-dependency', () => {
    assert.throws(() => new FeatureRegistry([feature('a', ['a'])]), /dependency cycle: a -> a/);
  });

  it('rejects unknown dependencies, naming both ends', () => {
    assert.throws(
      () => new FeatureRegistry([feature('shots', ['decode']), feature('x', ['nope'])]),
      /shots depends on unknown feature decode\n\s+x depends on unknown feature nope/,
    );
  });

  it('rejects a dependency across entity types', () => {
    assert.throws(
      () => new FeatureRegistry([feature('t', ['a'], 'title'), feature('a')]),
      /t \(per title\) depends on a \(per asset\): entity types must match/,
    );
  });

  it('rejects the same name registered twice', () => {
    assert.throws(() => new FeatureRegistry([feature('a'), feature('a')]), /feature a is registered twice/);
  });

  it('rejects malformed names and versions', () => {
    assert.throws(() => feature('Shots'), /must match/);
    assert.throws(() => feature('../etc'), /must match/);
    assert.throws(
      () => defineFeature({ ...feature('ok'), version: 0, params: undefined }),
      /version must be a positive integer/,
    );
  });

  it('derives the code hash from the module bytes', () => {
    assert.match(feature('a').codeHash, /^[0-9a-f]{64}$/);
    assert.equal(feature('a').codeHash, feature('b').codeHash);
  });

  it('refuses a module that exports no features', async () => {
    await assert.rejects(
      importFeatureModules([new URL('./registry.test.ts', import.meta.url).href]),
      /must default-export a feature or an array of features/,
    );
    await assert.rejects(importFeatureModules(['/nonexistent/features.ts']), /cannot load feature module/);
  });
});

describe('params and ids', () => {
  const withParams = defineFeature({
    ...feature('p'),
    params: z.object({
      threshold: z.number().min(0).max(1).default(0.5),
      mode: z.enum(['fast', 'exact']).default('fast'),
    }),
  });

  it('hashes params canonically: key order does not matter, defaults are filled in', () => {
    const a = normalizeParams(withParams, { threshold: 0.3, mode: 'exact' });
    const b = normalizeParams(withParams, { mode: 'exact', threshold: 0.3 });
    assert.equal(a.paramsHash, b.paramsHash);
    assert.equal(
      normalizeParams(withParams, {}).paramsHash,
      normalizeParams(withParams, { threshold: 0.5 }).paramsHash,
    );
    assert.equal(normalizeParams(withParams, {}).paramsKey, undefined);
    assert.equal(a.paramsKey, a.paramsHash.slice(0, 16));
  });

  it('rejects invalid params with the path of each problem', () => {
    assert.throws(
      () => normalizeParams(withParams, { threshold: 7 }),
      /invalid params for feature p: threshold:/,
    );
    assert.throws(() => normalizeParams(withParams, { mode: 'slow' }), /mode:/);
    assert.throws(() => normalizeParams(feature('np'), { x: 1 }), /feature np takes no params/);
  });

  it('canonical JSON sorts keys at every depth', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('workflow ids are deterministic', () => {
    assert.equal(featureWorkflowId('shots', 2, 'ab'), 'feat/shots@2/ab');
    assert.equal(featureWorkflowId('shots', 2, 'ab', '0123'), 'feat/shots@2/ab/p=0123');
  });
});

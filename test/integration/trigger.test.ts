import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { TitleStatus__Output } from '../../lib/api/generated/mediamesh/v1/TitleStatus.ts';
import type { TriggerResponse__Output } from '../../lib/api/generated/mediamesh/v1/TriggerResponse.ts';
import { TriggerApi } from '../../lib/api/grpc/client.ts';
import type { Session } from '../../lib/cli/context.ts';
import { sha256File } from '../../lib/objects/store.ts';
import { waitFor } from '../../lib/stack/processes.ts';
import { API_TOKEN, grpcCode, randomFile, startTestApi, type TestApi } from '../support/api.ts';
import { mediamesh } from '../support/cli.ts';
import { healthStatus, reflectedServices } from '../support/grpc-probes.ts';
import { TestWorkers } from '../support/harness.ts';

// Productized: b and c, both on a (a 3-feature mesh).
const workers = new TestWorkers('trigger', { MEDIAMESH_PRODUCTIZED_FEATURES: 't-mesh-b,t-mesh-c' });
const MESH = ['t-mesh-a', 't-mesh-b', 't-mesh-c'];
let t: TestApi;
let s: Session;

const trigger = (req: object) => t.api.call<object, TriggerResponse__Output>('Trigger', req);
const status = (titleId: string) => t.api.call<object, TitleStatus__Output>('GetStatus', { titleId });

async function settled(titleId: string, expectDone: number): Promise<TitleStatus__Output> {
  return waitFor(
    `title ${titleId} to settle with ${expectDone} done`,
    async () => {
      const st = await status(titleId).catch(() => undefined);
      return st && st.done + st.failed >= expectDone && st.running + st.pending === 0 ? st : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

describe('TriggerService on the real stack', () => {
  before(async () => {
    await workers.startAll();
    t = await startTestApi(workers);
    s = await workers.session();
  });
  after(async () => {
    t?.api.close();
    await s?.close();
    await workers.stopAll();
  });

  it('ListFeatures marks the productized ones', async () => {
    const res = await t.api.call<object, { features: { name: string; productized: boolean }[] }>(
      'ListFeatures',
      {},
    );
    const productized = res.features.filter((f) => f.productized).map((f) => f.name);
    assert.deepEqual(productized.sort(), ['t-mesh-b', 't-mesh-c']);
  });

  it('100 concurrent Trigger calls for the same bytes compute each feature once', async () => {
    const file = randomFile(t.mediaRoot, 'burst/clip.mov');
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => trigger({ titleId: 'burst', path: file })),
    );
    const hash = (await sha256File(file)).sha256;
    assert.ok(responses.every((r) => r.assetHash === hash));
    assert.equal(responses.filter((r) => r.newAsset).length, 1, 'exactly one call saw new bytes');
    const st = await settled('burst', 2);
    assert.equal(st.done, 2);
    for (const f of MESH) assert.equal(workers.executions(f, hash).length, 1, `${f} computed once`);
    assert.equal(st.assets.length, 1);
  });

  it('a relative path is taken from the first media root; object URIs land known assets', async () => {
    randomFile(t.mediaRoot, 'rel/one.mov');
    const res = await trigger({ titleId: 'rel', path: 'rel/one.mov' });
    await settled('rel', 2);
    const again = await trigger({
      titleId: 'rel-copy',
      objectUri: `mm://sha256/${res.assetHash}`,
      features: ['t-mesh-a'],
    });
    assert.equal(again.newAsset, false);
    // The bytes are now an asset of both titles; the first one keeps owning them.
    const members = await s.db.titleAsset.findMany({
      where: { assetHash: res.assetHash },
      orderBy: { titleId: 'asc' },
    });
    assert.deepEqual(
      members.map((m) => m.titleId),
      ['rel', 'rel-copy'],
    );
    assert.equal((await s.db.asset.findUniqueOrThrow({ where: { hash: res.assetHash } })).titleId, 'rel');
    const st = await settled('rel-copy', 1);
    assert.equal(st.assets[0]!.features[0]!.value!.valueId !== '', true);
    assert.equal(
      workers.executions('t-mesh-a', res.assetHash).length,
      1,
      'a memo hit, not a second computation',
    );
  });

  it('recompute inserts a new attempt, cascades to dependents, and keeps the old values', async () => {
    const file = randomFile(t.mediaRoot, 'recompute/clip.mov');
    const { assetHash } = await trigger({ titleId: 'recompute', path: file });
    const before = await settled('recompute', 2);
    const oldB = before.assets[0]!.features.find((f) => f.feature === 't-mesh-b')!.value!;
    const res = await t.api.call<object, { requestId: string }>('Recompute', {
      titleId: 'recompute',
      feature: 't-mesh-a',
      cascade: true,
      reason: 'new model weights',
    });
    assert.match(res.requestId, /^[0-9a-f-]{36}$/);
    await waitFor('the recompute to land', async () => {
      const st = await status('recompute');
      const b = st.assets[0]!.features.find((f) => f.feature === 't-mesh-b');
      return b?.state === 'done' && b.value?.attempt === 1 && st.running === 0 ? true : undefined;
    });
    assert.equal(workers.executions('t-mesh-a', assetHash).length, 2);
    assert.equal(workers.executions('t-mesh-b', assetHash).length, 2);
    assert.equal(workers.executions('t-mesh-c', assetHash).length, 2);
    const current = await t.api.call<
      object,
      { ref: { attempt: number }; attempts: number[]; inputs: { attempt: number }[] }
    >('GetFeatureValue', { feature: 't-mesh-b', entityKey: assetHash, attempt: 0, paramsJson: '' });
    assert.deepEqual(current.attempts, [0, 1]);
    assert.equal(current.ref.attempt, 1);
    assert.equal(current.inputs[0]!.attempt, 1, 'the new b was computed from the new a');
    const old = await t.api.call<object, { ref: { valueId: string } }>('GetFeatureValue', {
      feature: 't-mesh-b',
      entityKey: assetHash,
      attempt: 0,
      paramsJson: '',
    });
    assert.notEqual(old.ref.valueId, oldB.valueId, 'attempt 0 in the request means current');
    const rows = await s.db.featureValue.findMany({
      where: { entityKey: assetHash, featureName: 't-mesh-b' },
    });
    assert.deepEqual(rows.map((r) => r.attempt).sort(), [0, 1], 'the old value is still stored');
    const audit = await s.db.triggerEvent.findMany({ where: { titleId: 'recompute' } });
    assert.ok(audit.some((e) => (e.detail as { reason?: string })?.reason === 'new model weights'));
  });

  it('setFeatures-style override: Trigger with features runs only those', async () => {
    const file = randomFile(t.mediaRoot, 'only/clip.mov');
    const { assetHash } = await trigger({ titleId: 'only', path: file, features: ['t-mesh-a'] });
    const st = await settled('only', 1);
    assert.deepEqual(
      st.assets[0]!.features.map((f) => f.feature),
      ['t-mesh-a'],
    );
    assert.equal(workers.executions('t-mesh-b', assetHash).length, 0);
  });

  it('WatchStatus streams changes until the client cancels', async () => {
    const file = randomFile(t.mediaRoot, 'watch/clip.mov');
    await trigger({ titleId: 'watch', path: file });
    const seen: TitleStatus__Output[] = [];
    const stream = t.api.watchStatus('watch', 30_000);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (st: TitleStatus__Output) => {
        seen.push(st);
        if (st.done === 2) stream.cancel();
      });
      stream.on('error', (err: grpc.ServiceError) =>
        err.code === grpc.status.CANCELLED ? resolve() : reject(err),
      );
      stream.on('end', resolve);
    });
    assert.ok(seen.length >= 1);
    assert.equal(seen.at(-1)!.done, 2);
    const revisions = seen.map((x) => Number(x.revision));
    assert.deepEqual(
      revisions,
      [...revisions].sort((a, b) => a - b),
      'revisions only move forward',
    );
  });

  it('the CLI drives the same API: trigger, status --title, recompute, value', async () => {
    const env = { ...process.env, MEDIAMESH_API_ADDRESS: t.address, MEDIAMESH_API_TOKEN: API_TOKEN };
    const file = randomFile(t.mediaRoot, 'cli/clip.mov');
    const landed = await mediamesh(['trigger', '--title', 'cli-title', '--file', file, '--json'], env);
    assert.equal(landed.code, 0, landed.stderr);
    const { assetHash } = JSON.parse(landed.stdout);
    await settled('cli-title', 2);
    const st = await mediamesh(['status', '--title', 'cli-title'], env);
    assert.match(st.stdout, /cli-title: 2 done, 0 running, 0 pending, 0 failed/);
    const watch = await mediamesh(
      ['status', '--title', 'cli-title', '--watch', '--json', '--timeout', '20'],
      env,
    );
    assert.equal(watch.code, 0, watch.stderr);
    assert.equal(JSON.parse(watch.stdout.trim().split('\n').at(-1)!).done, 2);
    const again = await mediamesh(['trigger', '--title', 'cli-title', '--file', file], env);
    assert.match(again.stdout, /already landed/);
    const bad = await mediamesh(['recompute', '--title', 'cli-title', '--reason', ' '], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_ARGUMENT: reason: say why/);
    const value = await mediamesh(['value', 't-mesh-b', assetHash], env);
    assert.equal(JSON.parse(value.stdout).value.n, 2);
    const denied = await mediamesh(['trigger', '--title', 'x', '--file', file], {
      ...env,
      MEDIAMESH_API_TOKEN: 'wrong-token-0123456789',
    });
    assert.match(denied.stderr, /UNAUTHENTICATED/);
  });

  describe('bad input: a specific status code and nothing recorded', () => {
    const outside = path.join(
      path.dirname(import.meta.dirname),
      'fixtures',
      'media',
      'pyscenedetect',
      'counter.mp4',
    );
    let counts: { triggers: number; assets: number };
    before(async () => {
      fs.symlinkSync(outside, path.join(t.mediaRoot, 'escape.mp4'));
      fs.mkdirSync(path.join(t.mediaRoot, 'a-directory'));
      counts = { triggers: await s.db.triggerEvent.count(), assets: await s.db.asset.count() };
    });
    after(async () => {
      assert.equal(await s.db.triggerEvent.count(), counts.triggers, 'no trigger event recorded');
      assert.equal(await s.db.asset.count(), counts.assets, 'no asset recorded');
    });

    const cases: [string, () => Promise<unknown>, string, RegExp][] = [
      [
        'no token',
        () => new TriggerApi(t.address, undefined).call('ListFeatures', {}),
        'UNAUTHENTICATED',
        /bearer token/,
      ],
      [
        'a wrong token',
        () => new TriggerApi(t.address, 'not-the-token-123456').call('GetStatus', { titleId: 'x' }),
        'UNAUTHENTICATED',
        /bearer/,
      ],
      ['an empty title', () => trigger({ titleId: '', path: 'x.mov' }), 'INVALID_ARGUMENT', /title_id:/],
      [
        'a title with a slash',
        () => trigger({ titleId: 'a/b', path: 'x.mov' }),
        'INVALID_ARGUMENT',
        /title_id:/,
      ],
      [
        'a huge title',
        () => trigger({ titleId: 'x'.repeat(10_000), path: 'x.mov' }),
        'INVALID_ARGUMENT',
        /title_id:/,
      ],
      [
        'no asset at all',
        () => trigger({ titleId: 'x' }),
        'INVALID_ARGUMENT',
        /exactly one of path or object_uri/,
      ],
      [
        'an absolute path outside the roots',
        () => trigger({ titleId: 'x', path: '/etc/passwd' }),
        'PERMISSION_DENIED',
        /outside the media roots/,
      ],
      [
        'a ../ escape',
        () => trigger({ titleId: 'x', path: '../../../../etc/passwd' }),
        'PERMISSION_DENIED',
        /outside the media roots/,
      ],
      [
        'a symlink escape',
        () => trigger({ titleId: 'x', path: 'escape.mp4' }),
        'PERMISSION_DENIED',
        /through a symlink/,
      ],
      ['a missing file', () => trigger({ titleId: 'x', path: 'nope.mov' }), 'NOT_FOUND', /does not exist/],
      [
        'a directory',
        () => trigger({ titleId: 'x', path: 'a-directory' }),
        'NOT_FOUND',
        /not a regular file/,
      ],
      [
        'an unknown feature',
        () => trigger({ titleId: 'x', path: 'nope.mov', features: ['t-nope'] }),
        'INVALID_ARGUMENT',
        /unknown feature t-nope/,
      ],
      [
        'a malformed feature name',
        () => trigger({ titleId: 'x', path: 'nope.mov', features: ['DROP TABLE'] }),
        'INVALID_ARGUMENT',
        /features\.0: not a feature name/,
      ],
      [
        'a malformed object uri',
        () => trigger({ titleId: 'x', objectUri: 's3://bucket/key' }),
        'INVALID_ARGUMENT',
        /object_uri/,
      ],
      [
        'an unknown object',
        () => trigger({ titleId: 'x', objectUri: `mm://sha256/${'0'.repeat(64)}` }),
        'NOT_FOUND',
        /no asset/,
      ],
      [
        'a 2 MB request',
        () => trigger({ titleId: 'x', path: 'p'.repeat(2 * 1024 * 1024) }),
        'RESOURCE_EXHAUSTED',
        /.*/,
      ],
      [
        'recompute of an unknown title',
        () => t.api.call('Recompute', { titleId: 'never-landed', reason: 'r' }),
        'NOT_FOUND',
        /nothing has landed/,
      ],
      [
        'recompute without a reason',
        () => t.api.call('Recompute', { titleId: 'burst', reason: '' }),
        'INVALID_ARGUMENT',
        /reason: say why/,
      ],
      [
        'recompute of a feature the title lacks',
        () => t.api.call('Recompute', { titleId: 'burst', feature: 't-slow', reason: 'r' }),
        'INVALID_ARGUMENT',
        /neither one of title burst's features/,
      ],
      ['status of an unknown title', () => status('never-landed'), 'NOT_FOUND', /no title never-landed/],
      [
        'a value with a malformed entity key',
        () => t.api.call('GetFeatureValue', { feature: 't-mesh-a', entityKey: 'abc' }),
        'INVALID_ARGUMENT',
        /entity_key: must be a sha256/,
      ],
      [
        'a value never computed',
        () => t.api.call('GetFeatureValue', { feature: 't-mesh-a', entityKey: 'f'.repeat(64) }),
        'NOT_FOUND',
        /no value of t-mesh-a@1/,
      ],
      [
        'a value with bad params JSON',
        () =>
          t.api.call('GetFeatureValue', { feature: 't-slow', entityKey: 'f'.repeat(64), paramsJson: '{' }),
        'INVALID_ARGUMENT',
        /params_json: not valid JSON/,
      ],
      [
        'a value with invalid params',
        () =>
          t.api.call('GetFeatureValue', {
            feature: 't-slow',
            entityKey: 'f'.repeat(64),
            paramsJson: '{"ms":-1}',
          }),
        'INVALID_ARGUMENT',
        /invalid params for feature t-slow/,
      ],
    ];
    for (const [what, call, code, message] of cases) {
      it(`${what} → ${code}`, async () => {
        await assert.rejects(call(), (err: grpc.ServiceError) => {
          assert.equal(grpcCode(err), code, err.details);
          assert.match(err.details ?? '', message);
          return true;
        });
      });
    }
  });

  it('serves the standard health service and server reflection', async () => {
    assert.equal(await healthStatus(t.address, 'mediamesh.v1.TriggerService'), 'SERVING');
    const services = await reflectedServices(t.address);
    assert.ok(services.includes('mediamesh.v1.TriggerService'), services.join(', '));
    assert.ok(services.includes('grpc.health.v1.Health'), services.join(', '));
  });
});

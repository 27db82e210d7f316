// The SearchService over gRPC and /v1/search over HTTP on the real api process: the same hits as the store itself
// (and each other), pages by cursor, GetAnnotation, ListSchemas, every error code on both transports, and the
// `mediamesh search` command.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { fromProtoAnnotation, fromSearchResponse, SearchApi } from '../../lib/api/grpc/search-client.ts';
import { loadConfig } from '../../lib/config/config.ts';
import { AnnotationStore, type SearchResult } from '../../lib/search/index.ts';
import { syntheticRuns } from '../../lib/search/synthetic.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';
import { freePort, waitFor } from '../../lib/stack/processes.ts';
import { API_TOKEN, grpcCode } from '../support/api.ts';
import { mediamesh } from '../support/cli.ts';
import { healthStatus, reflectedServices } from '../support/grpc-probes.ts';
import { TestWorkers } from '../support/harness.ts';

const workers = new TestWorkers('search-api');
const tag = crypto.randomBytes(4).toString('hex');
const titles = [0, 1].map((i) => `sa-${tag}-${i}`);
const scope = { titleId: { in: titles } };
let store: AnnotationStore;
let api: SearchApi;
let address: string;
let httpBase: string;
const ids: string[] = [];

/** A query limited to this file's titles. */
const scoped = (q: Record<string, unknown>) => ({
  ...q,
  where: q.where ? { and: [scope, q.where] } : scope,
});

async function http(
  method: string,
  pathname: string,
  body?: string,
  token: string | null = API_TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${httpBase}${pathname}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const withoutTime = <T extends { tookMs?: unknown }>(r: T) => {
  const { tookMs, ...rest } = r;
  assert.equal(typeof tookMs, 'number');
  return rest;
};

describe('SearchService on the real api process', () => {
  before(async () => {
    store = AnnotationStore.connect(resolveDatabaseUrl(loadConfig()));
    for (const r of syntheticRuns({
      seed: 21,
      titles: 2,
      assetsPerTitle: 2,
      shotsPerAsset: 12,
      dim: 8,
      clusters: 4,
      titlePrefix: `sa-${tag}-`,
      salt: tag,
    }))
      ids.push(...(await store.writeRun(r.run, r.annotations)).ids);

    const grpcPort = await freePort();
    const httpPort = await freePort();
    workers.start('api', {
      MEDIAMESH_GRPC_PORT: String(grpcPort),
      MEDIAMESH_API_PORT: String(httpPort),
      MEDIAMESH_API_TOKENS: API_TOKEN,
      MEDIAMESH_MEDIA_ROOTS: fs.mkdtempSync(path.join(os.tmpdir(), 'mm-search-api-')),
    });
    address = `127.0.0.1:${grpcPort}`;
    httpBase = `http://127.0.0.1:${httpPort}`;
    api = new SearchApi(address, API_TOKEN);
    await waitFor('the gRPC api', async () => {
      await api.listSchemas(1000);
      return true;
    });
  });
  after(async () => {
    api?.close();
    await store?.close();
    await workers.stopAll();
  });

  it('ListSchemas lists the registered schemas with their payload JSON Schema', async () => {
    const { schemas } = await api.listSchemas();
    const refs = schemas.map((s) => `${s.name}@${s.version}`);
    assert.deepEqual(refs, ['dedup-group@1', 'match-pair@1', 'shot@1', 'text-region@1']);
    const text = schemas.find((s) => s.name === 'text-region')!;
    assert.equal(text.spatial, 'required');
    const schema = JSON.parse(text.payloadSchemaJson) as { properties: Record<string, unknown> };
    assert.deepEqual(Object.keys(schema.properties).sort(), ['score', 'text']);
    const overHttp = await http('GET', '/v1/annotation-schemas');
    assert.equal(overHttp.status, 200);
    assert.deepEqual(
      (overHttp.json as unknown as { name: string }[]).map((s) => s.name),
      schemas.map((s) => s.name),
    );
  });

  it('health reports the SearchService serving; reflection lists it', async () => {
    assert.equal(await healthStatus(address, 'mediamesh.v1.SearchService'), 'SERVING');
    const services = await reflectedServices(address);
    assert.ok(services.includes('mediamesh.v1.SearchService'), services.join(', '));
  });

  it('gRPC and HTTP return the same hits as the store, for every kind of query', async () => {
    const someShot = (await store.search(scoped({ where: { type: 'shot' }, limit: 1 }))).hits[0]!;
    const queries: Record<string, unknown>[] = [
      scoped({ where: { type: 'shot', payload: { kind: { in: ['cut', 'dissolve'] } } }, sort: ['-start'] }),
      scoped({
        where: {
          type: 'text-region',
          temporal: { unit: 'seconds', overlaps: { start: 1, end: 4 } },
          spatial: { intersects: { x: 0, y: 0.66, w: 1, h: 0.34 } },
        },
        sort: ['entityId', 'start'],
      }),
      scoped({ near: { annotation: someShot.id, k: 5 }, includeVectors: true }),
      scoped({ where: { type: 'shot' }, near: { vector: [1, 0, 0, 0, 0, 0, 0, 1], k: 7, minScore: -1 } }),
      scoped({ where: { type: 'match-pair' }, groupBy: { by: 'payload.flavor', top: 2 } }),
      scoped({ groupBy: 'entity', limit: 3 }),
    ];
    for (const q of queries) {
      const direct = await store.search(q);
      const overGrpc = fromSearchResponse(await api.search(q));
      const overHttp = await http('POST', '/v1/search', JSON.stringify(q));
      assert.equal(overHttp.status, 200, JSON.stringify(overHttp.json));
      assert.deepEqual(withoutTime(overGrpc), direct, `gRPC: ${JSON.stringify(q)}`);
      assert.deepEqual(withoutTime(overHttp.json), direct, `HTTP: ${JSON.stringify(q)}`);
      assert.ok(
        direct.hits.length + (direct.groups?.length ?? 0) > 0,
        `${JSON.stringify(q)} finds something`,
      );
    }
  });

  it('pages through every annotation of the titles by cursor, on both transports', async () => {
    const q = scoped({ sort: ['titleId', 'id'], limit: 37 });
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const r = fromSearchResponse(await api.search(cursor ? { ...q, cursor } : q));
      const h = await http('POST', '/v1/search', JSON.stringify(cursor ? { ...q, cursor } : q));
      assert.deepEqual(withoutTime(h.json), withoutTime(r));
      seen.push(...r.hits.map((a) => a.id));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    assert.deepEqual(
      [...seen].sort(),
      [...ids].sort(),
      'every written annotation, once (all runs are current)',
    );
  });

  it('GetAnnotation returns one annotation (with its vector on request), over gRPC and HTTP', async () => {
    const shot = (await store.search(scoped({ where: { type: 'shot' }, limit: 1, includeVectors: true })))
      .hits[0]!;
    const got = fromProtoAnnotation(await api.getAnnotation(shot.id, true));
    assert.deepEqual(got, shot);
    const { vector, ...plain } = shot;
    assert.equal(vector!.length, 8);
    assert.deepEqual(fromProtoAnnotation(await api.getAnnotation(shot.id)), plain);
    const overHttp = await http('GET', `/v1/annotations/${shot.id}`);
    assert.deepEqual(overHttp.json, plain);
    const withVector = await http('GET', `/v1/annotations/${shot.id}?includeVector=true`);
    assert.deepEqual(withVector.json, shot);
  });

  describe('bad input: a precise status on both transports', () => {
    const big = (bytes: number) =>
      JSON.stringify({
        where: { entityId: { in: Array.from({ length: bytes / 10 }, () => 'x'.repeat(7)) } },
      });
    const deepNot = (n: number): Record<string, unknown> =>
      n === 0 ? { type: 'shot' } : { not: deepNot(n - 1) };
    // [what, query JSON, gRPC code, HTTP status, message]
    const searches: [string, string, string, number, RegExp][] = [
      ['malformed JSON', '{"where": ', 'INVALID_ARGUMENT', 400, /^not JSON: /],
      ['an empty query', '', 'INVALID_ARGUMENT', 400, /empty query/],
      ['not an object', '[]', 'INVALID_ARGUMENT', 400, /expected object/],
      ['an unknown key', '{"wher": {}}', 'INVALID_ARGUMENT', 400, /unknown key "wher"/],
      [
        'an inverted range deep inside',
        '{"where": {"and": [{"type": "shot"}, {"temporal": {"overlaps": {"start": 5, "end": 2}}}]}}',
        'INVALID_ARGUMENT',
        400,
        /^where\.and\[1\]\.temporal\.overlaps\.end: expected end > start/,
      ],
      [
        'a wrong operand type',
        '{"where": {"payload": {"score": {"gte": true}}}}',
        'INVALID_ARGUMENT',
        400,
        /^where\.payload\.score\.gte: expected number \| string$/,
      ],
      [
        'an empty region',
        '{"where": {"spatial": {"iou": {"region": {"x": 0, "y": 0, "w": 0, "h": 1}, "gte": 0.5}}}}',
        'INVALID_ARGUMENT',
        400,
        /^where\.spatial\.iou\.region\.w: expected w > 0$/,
      ],
      [
        'sorting by score without near',
        '{"sort": ["score"]}',
        'INVALID_ARGUMENT',
        400,
        /^sort\[0\]\.field: sorting by score needs a vector query/,
      ],
      [
        'an id past int8',
        '{"where": {"id": "9999999999999999999"}}',
        'INVALID_ARGUMENT',
        400,
        /^where\.id: expected an annotation id|out of range/,
      ],
      ['too large a result', '{"limit": 5000}', 'RESOURCE_EXHAUSTED', 422, /^limit: expected ≤ 1000/],
      [
        'too long an "in" list',
        JSON.stringify({ where: { entityId: { in: Array.from({ length: 1001 }, (_, i) => `e${i}`) } } }),
        'RESOURCE_EXHAUSTED',
        422,
        /^where\.entityId\.in: more than 1000 values/,
      ],
      [
        'too deep a nesting',
        JSON.stringify({ where: deepNot(12) }),
        'RESOURCE_EXHAUSTED',
        422,
        /nest deeper than 8 levels/,
      ],
      ['a 300 KB query', big(300_000), 'RESOURCE_EXHAUSTED', 422, /query larger than 262144 bytes/],
      [
        'near an unknown annotation',
        '{"near": {"annotation": "999999999999", "k": 3}}',
        'NOT_FOUND',
        404,
        /^near\.annotation: annotation 999999999999 not found/,
      ],
    ];
    for (const [what, queryJson, code, status, message] of searches) {
      it(`${what} → ${code} / HTTP ${status}`, async () => {
        let details = '';
        await assert.rejects(api.search(queryJson), (err: grpc.ServiceError) => {
          assert.equal(grpcCode(err), code, err.details);
          assert.match(err.details ?? '', message);
          details = err.details;
          return true;
        });
        const res = await http('POST', '/v1/search', queryJson);
        assert.equal(res.status, status, JSON.stringify(res.json));
        assert.equal(res.json.code, code);
        assert.equal(res.json.error, details, 'the same message on both transports');
      });
    }

    it('an invalid query over HTTP lists each issue with its path', async () => {
      const res = await http(
        'POST',
        '/v1/search',
        '{"where": {"or": [{"type": 3}, {"temporal": {"within": {"start": 0, "end": 1}, "unit": "hours"}}]}}',
      );
      assert.equal(res.status, 400);
      assert.deepEqual(
        (res.json.issues as { path: string }[]).map((i) => i.path),
        ['where.or[0].type', 'where.or[1].temporal.unit'],
      );
    });

    it('a request over 1 MB → RESOURCE_EXHAUSTED / HTTP 413', async () => {
      await assert.rejects(api.search(big(1_200_000)), (err: grpc.ServiceError) => {
        assert.equal(grpcCode(err), 'RESOURCE_EXHAUSTED', err.details);
        return true;
      });
      const res = await http('POST', '/v1/search', big(1_200_000));
      assert.equal(res.status, 413);
      assert.equal(res.json.code, 'RESOURCE_EXHAUSTED');
      assert.match(String(res.json.error), /request larger than 1048576 bytes/);
    });

    const unauthenticated: [string, string | undefined][] = [
      ['no token', undefined],
      ['a wrong token', 'not-the-token-123456'],
    ];
    for (const [what, token] of unauthenticated) {
      it(`${what} → UNAUTHENTICATED / HTTP 401`, async () => {
        const other = new SearchApi(address, token);
        try {
          for (const call of [
            () => other.search('{}'),
            () => other.getAnnotation(ids[0]!),
            () => other.listSchemas(),
          ])
            await assert.rejects(call(), (err: grpc.ServiceError) => {
              assert.equal(grpcCode(err), 'UNAUTHENTICATED', err.details);
              assert.match(err.details, /bearer token/);
              return true;
            });
        } finally {
          other.close();
        }
        const res = await http('POST', '/v1/search', '{}', token ?? null);
        assert.equal(res.status, 401);
        assert.equal((await http('GET', `/v1/annotations/${ids[0]}`, undefined, token ?? null)).status, 401);
      });
    }

    const lookups: [string, string, string, number, RegExp][] = [
      ['an unknown annotation', '999999999999', 'NOT_FOUND', 404, /annotation 999999999999 not found/],
      ['a malformed annotation id', 'abc', 'INVALID_ARGUMENT', 400, /^id: expected an annotation id/],
      ['an annotation id past int8', '9999999999999999999', 'INVALID_ARGUMENT', 400, /^id: expected/],
    ];
    for (const [what, id, code, status, message] of lookups) {
      it(`GetAnnotation of ${what} → ${code} / HTTP ${status}`, async () => {
        await assert.rejects(api.getAnnotation(id), (err: grpc.ServiceError) => {
          assert.equal(grpcCode(err), code, err.details);
          assert.match(err.details, message);
          return true;
        });
        const res = await http('GET', `/v1/annotations/${id}`);
        assert.equal(res.status, status);
        assert.equal(res.json.code, code);
      });
    }
  });

  it("mediamesh search: a table, --json, --file, --cursor, and the API's errors", async () => {
    const env = { ...workers.env, MEDIAMESH_API_ADDRESS: address, MEDIAMESH_API_TOKEN: API_TOKEN };
    const q = scoped({ where: { type: 'shot' }, sort: ['titleId', 'id'], limit: 5 });
    const direct = await store.search(q);
    const table = await mediamesh(['search', JSON.stringify(q)], env);
    assert.equal(table.code, 0, table.stderr);
    for (const h of direct.hits) assert.match(table.stdout, new RegExp(`│ ${h.id} +│ shot@1`));
    assert.match(table.stdout, /5 hits in [\d.]+ ms/);
    assert.match(table.stdout, /more: --cursor \S+/);

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mm-search-cli-')), 'q.json');
    fs.writeFileSync(file, JSON.stringify(q));
    const next = await mediamesh(['search', '--file', file, '--cursor', direct.nextCursor!, '--json'], env);
    assert.equal(next.code, 0, next.stderr);
    const page2 = JSON.parse(next.stdout) as SearchResult & { tookMs: number };
    assert.deepEqual(withoutTime(page2), await store.search({ ...q, cursor: direct.nextCursor }));

    const bad = await mediamesh(['search', '{"where": {"payload": {"score": {"gte": true}}}}'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_ARGUMENT: where\.payload\.score\.gte: expected number \| string/);
  });
});

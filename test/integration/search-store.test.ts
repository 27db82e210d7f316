// The Postgres executor against the reference evaluator on generated data: every operator, randomized queries,
// identical ids in identical order, page after page; plus the write path (validation, idempotence, the run
// pointer, immutability) and the query limits that need a database.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../lib/config/config.ts';
import {
  AnnotationStore,
  type AnnotationValidationError,
  evaluateQuery,
  normalizeAnnotations,
  type RunInput,
  SearchQueryError,
  type SearchResult,
  type StoredAnnotation,
} from '../../lib/search/index.ts';
import {
  hex64,
  type QueryDomain,
  randomQuery,
  rng,
  type SyntheticRun,
  syntheticRuns,
} from '../../lib/search/synthetic.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';

const url = resolveDatabaseUrl(loadConfig());
const tag = crypto.randomBytes(4).toString('hex');
const DIM = 16;
let store: AnnotationStore;
let raw: pg.Client;

/** What the reference sees: the annotations of the current run of each (producer, entity). */
const visible = new Map<string, StoredAnnotation[]>();
const runKey = (r: RunInput) => `${r.producer}|${r.entity.type}|${r.entity.id}`;
const current = new Map<string, { version: number; attempt: number }>();

async function write(run: SyntheticRun['run'], annotations: SyntheticRun['annotations']) {
  const res = await store.writeRun(run, annotations);
  const normalized = normalizeAnnotations(store.registry, run, annotations);
  const stored: StoredAnnotation[] = normalized.map((a, i) => ({
    id: res.ids[i]!,
    runId: res.runId,
    type: a.type,
    schemaVersion: a.schemaVersion,
    entity: a.entity,
    titleId: a.titleId,
    producer: run.producer,
    valueId: run.valueId == null ? null : String(run.valueId),
    temporal: a.temporal,
    spatial: a.spatial,
    payload: a.payload,
    vector: a.vector ? Array.from(a.vector) : null,
  }));
  const cur = current.get(runKey(run));
  const newer =
    !cur ||
    cur.version < run.producerVersion ||
    (cur.version === run.producerVersion && cur.attempt <= run.attempt);
  assert.equal(res.current, newer, 'the pointer moves only forward');
  if (newer) {
    current.set(runKey(run), { version: run.producerVersion, attempt: run.attempt });
    visible.set(runKey(run), stored);
  }
  return res;
}

const all = () => [...visible.values()].flat();
const titles = [0, 1, 2].map((i) => `st-${tag}-${i}`);
const scoped = (q: Record<string, unknown>) => ({
  ...q,
  where: { and: [{ titleId: { in: titles } }, q.where ?? {}] },
});

function summary(r: SearchResult) {
  const hit = (h: { id: string; score?: number }) => (h.score === undefined ? h.id : `${h.id}@${h.score}`);
  return {
    hits: r.hits.map(hit),
    groups: r.groups?.map((g) => ({ key: g.key, count: g.count, hits: g.hits.map(hit) })),
    next: r.nextCursor !== null,
  };
}

async function both(
  q: Record<string, unknown>,
): Promise<{ db: SearchResult | Error; ref: SearchResult | Error }> {
  const ref = (() => {
    try {
      return evaluateQuery(q, all());
    } catch (e) {
      return e as Error;
    }
  })();
  const db = await store.search(q).catch((e: Error) => e);
  return { db, ref };
}

async function assertSame(q: Record<string, unknown>, label: string, maxPages = 4): Promise<number> {
  let query = q;
  let compared = 0;
  for (let page = 0; page < maxPages; page++) {
    const { db, ref } = await both(query);
    if (ref instanceof Error || db instanceof Error) {
      assert.ok(ref instanceof SearchQueryError, `${label}: reference failed: ${String(ref)}`);
      assert.ok(db instanceof SearchQueryError, `${label}: store failed differently: ${String(db)}`);
      assert.equal(db.message, ref.message, label);
      return compared;
    }
    assert.deepEqual(summary(db), summary(ref), `${label} page ${page}: ${JSON.stringify(query)}`);
    assert.deepEqual(db, ref, `${label} page ${page}: full hits differ`);
    compared += db.hits.length + (db.groups?.length ?? 0);
    if (!db.nextCursor) break;
    assert.equal(db.nextCursor, ref.nextCursor, `${label}: cursors`);
    query = { ...q, cursor: db.nextCursor };
  }
  return compared;
}

describe('search: Postgres executor vs reference evaluator', () => {
  const domain: QueryDomain = {
    titleIds: titles,
    entityIds: [],
    assetHashes: [],
    annotationIds: [],
    dim: DIM,
  };

  before(async () => {
    store = AnnotationStore.connect(url, { batchSize: 97 }); // small batches: several INSERTs per run
    raw = new pg.Client({ connectionString: url });
    await raw.connect();
    for (const r of syntheticRuns({
      seed: 11,
      titles: 3,
      assetsPerTitle: 3,
      shotsPerAsset: 24,
      dim: DIM,
      clusters: 6,
      titlePrefix: `st-${tag}-`,
      salt: tag,
    })) {
      await write(r.run, r.annotations);
      domain.assetHashes.push(r.run.entity.id);
      for (const a of r.annotations) domain.entityIds.push(a.entity.id);
    }
    // A second attempt of two assets' shots replaces their first run; an older attempt written afterwards does not.
    const gen = syntheticRuns({
      seed: 12,
      titles: 1,
      assetsPerTitle: 2,
      shotsPerAsset: 10,
      dim: DIM,
      titlePrefix: 'x',
    });
    const replaced = [...visible.keys()].filter((k) => k.startsWith('shots|')).slice(0, 2);
    for (const key of replaced) {
      let next = gen.next().value as SyntheticRun;
      while (next.run.producer !== 'shots') next = gen.next().value as SyntheticRun;
      const [, type, id] = key.split('|') as [string, 'asset', string];
      const old = visible.get(key)![0]!;
      const run = { ...next.run, entity: { type, id }, attempt: 2, titleId: old.titleId };
      await write(
        run,
        next.annotations.map((a, i) => ({ ...a, entity: { type: 'shot', id: `${id}#${i}` } })),
      );
      await write(
        { ...run, attempt: 1 },
        next.annotations.slice(0, 3).map((a, i) => ({ ...a, entity: { type: 'shot', id: `${id}#${i}` } })),
      );
    }
    domain.annotationIds = all().map((a) => a.id);
  });

  after(async () => {
    await store.close();
    await raw.end();
  });

  it('holds hundreds of annotations across current runs only', () => {
    assert.ok(all().length > 500, `${all().length} visible annotations`);
  });

  it('answers every operator like the reference (hand-picked)', async () => {
    const some = all().find((a) => a.type === 'text-region')!;
    const queries: Record<string, unknown>[] = [
      {},
      { where: { type: 'shot' }, sort: ['start'] },
      {
        where: { type: { in: ['shot', 'text-region'] }, entityType: 'shot' },
        sort: ['-timeEnd', 'entityId'],
      },
      { where: { entityId: some.entity.id } },
      { where: { entityId: { prefix: `${some.entity.id.split('#')[0]}#` }, type: { ne: 'match-pair' } } },
      { where: { titleId: { ne: titles[0] }, producer: 'text-regions' }, sort: ['titleId'] },
      { where: { schemaVersion: { gte: 1, lt: 2 } } },
      { where: { payload: { kind: 'cut' } } },
      { where: { payload: { kind: { in: ['dissolve', 'fade-in'] }, confidence: { gte: 0.5 } } } },
      { where: { payload: { confidence: { exists: false } }, type: 'shot' } },
      {
        where: { payload: { text: { gte: 'H', lt: 'p' } } },
        sort: [{ field: 'payload.text', as: 'string' }],
      },
      { where: { payload: { group: { in: [3, 'g3'] } } } },
      { where: { payload: { kept: true } }, sort: ['-payload.group'] },
      {
        where: { payload: { score: { gt: 0.2, lte: 0.6 } } },
        sort: [{ field: 'payload.score', order: 'desc' }],
      },
      { where: { not: { payload: { score: { lt: 0.5 } } } } },
      { where: { or: [{ type: 'shot' }, { payload: { kept: false } }] } },
      { where: { temporal: { overlaps: { start: 100, end: 200 } } }, sort: ['start'] },
      { where: { temporal: { contains: { start: 150, end: 160 } } } },
      { where: { temporal: { within: { start: 0, end: 400 } } } },
      { where: { temporal: { unit: 'seconds', overlaps: { start: 10, end: 20 } } } },
      { where: { temporal: { unit: 'seconds', within: { start: 2.5, end: 30.25 } } } },
      { where: { temporal: { unit: 'seconds', contains: { start: 5, end: 5.5 } } } },
      { where: { spatial: { intersects: { x: 0, y: 0.66, w: 1, h: 0.34 } } } },
      { where: { spatial: { within: { x: 0, y: 0.5, w: 1, h: 0.5 } } } },
      { where: { spatial: { contains: { x: 0.4, y: 0.4, w: 0.05, h: 0.05 } } } },
      { where: { spatial: { iou: { region: { ...some.spatial!, polygon: undefined }, gte: 0.5 } } } },
      { where: { hasSpatial: true, hasVector: false } },
      { where: { id: { in: [some.id] } } },
      {
        where: { type: 'shot' },
        near: { vector: Array.from({ length: DIM }, (_, i) => Math.sin(i)), k: 25 },
      },
      {
        where: { type: 'shot', titleId: titles[1] },
        near: { annotation: all().find((a) => a.vector)!.id, k: 40, minScore: 0.3 },
        sort: ['-score'],
      },
      { near: { annotation: all().find((a) => a.vector)!.id, k: 30 }, sort: ['start', '-score'] },
      { near: { annotation: all().find((a) => a.vector)!.id, k: 30 }, groupBy: { by: 'entity', top: 2 } },
      { groupBy: 'type' },
      { where: { type: 'shot' }, includeVectors: true, sort: ['-end'] },
      { where: { producer: 'shots' }, groupBy: { by: 'entity', top: 1 }, includeVectors: true },
      {
        where: { hasVector: true },
        near: { vector: Array.from({ length: DIM }, (_, i) => i % 3), k: 5 },
        includeVectors: true,
      },
      { groupBy: { by: 'title', top: 5 }, sort: ['-start'] },
      { groupBy: { by: 'payload.group', top: 2 }, where: { type: 'dedup-group' } },
      { groupBy: { by: 'payload.kind', top: 0 } },
      { groupBy: { by: 'payload.score', top: 1 }, sort: ['-payload.score'] },
    ];
    for (const [i, q] of queries.entries()) {
      const s = scoped({ limit: 7, ...q });
      // Scoping keeps other test files' annotations out of both sides.
      await assertSame(s, `query ${i}`, 50);
    }
  });

  it('answers 400 random queries like the reference, page by page', async () => {
    const r = rng(2024);
    let results = 0;
    for (let i = 0; i < 400; i++) {
      const q = randomQuery(r, domain);
      results += await assertSame(scoped(q), `random ${i}`);
    }
    assert.ok(results > 2000, `only ${results} results compared`);
  });

  it('pages with stable cursors: pages concatenate to the whole ordered result', async () => {
    const q = scoped({ where: { type: 'text-region' }, sort: ['-payload.score', 'start'], limit: 1000 });
    const whole = (await store.search(q)).hits.map((h) => h.id);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.search({ ...q, limit: 13, ...(cursor ? { cursor } : {}) });
      paged.push(...page.hits.map((h) => h.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(paged, whole);
    assert.equal(new Set(paged).size, paged.length);
  });

  it('refuses a cursor from another query and a forged one', async () => {
    const page = await store.search(scoped({ where: { type: 'shot' }, limit: 2 }));
    assert.ok(page.nextCursor);
    await assert.rejects(
      store.search(scoped({ where: { type: 'match-pair' }, limit: 2, cursor: page.nextCursor })),
      (e: SearchQueryError) =>
        e.code === 'invalid' && /^cursor: the cursor belongs to another query/.test(e.message),
    );
    await assert.rejects(
      store.search(scoped({ where: { type: 'shot' }, limit: 2, cursor: 'bm9wZQ' })),
      (e: SearchQueryError) => e.message === 'cursor: malformed cursor',
    );
  });

  it('near an unknown annotation or one without a vector fails precisely', async () => {
    await assert.rejects(
      store.search({ near: { annotation: '999999999999', k: 3 } }),
      (e: SearchQueryError) =>
        e.code === 'not_found' && e.message === 'near.annotation: annotation 999999999999 not found',
    );
    const noVector = all().find((a) => !a.vector)!;
    await assert.rejects(
      store.search({ near: { annotation: noVector.id, k: 3 } }),
      (e: SearchQueryError) => e.message === `near.annotation: annotation ${noVector.id} has no vector`,
    );
  });

  it('refuses a vector query with too many candidates after its filters', async () => {
    const small = AnnotationStore.connect(url, { limits: { maxVectorCandidates: 10 } });
    try {
      await assert.rejects(
        small.search(scoped({ near: { vector: Array.from({ length: DIM }, () => 1), k: 5 } })),
        (e: SearchQueryError) =>
          e.code === 'limit' && /^near: more than 10 annotations to score/.test(e.message),
      );
    } finally {
      await small.close();
    }
  });

  it('stops a query at the statement timeout with a specific error', async () => {
    const slow = AnnotationStore.connect(url, { limits: { statementTimeoutMs: 200 } });
    // Deterministic "slow": another session holds a lock the query has to wait for.
    await raw.query('BEGIN');
    await raw.query('LOCK TABLE annotations IN ACCESS EXCLUSIVE MODE');
    try {
      await assert.rejects(
        slow.search({ where: { type: 'shot' } }),
        (e: SearchQueryError) =>
          e.code === 'timeout' && e.message === 'the query ran past its statement timeout (200 ms)',
      );
    } finally {
      await raw.query('ROLLBACK');
      await slow.close();
    }
  });

  it('writes nothing when a run fails validation, and names every bad field', async () => {
    const asset = tag + hex64(rng(5)).slice(tag.length);
    const run = {
      producer: 'shots',
      producerVersion: 1,
      entity: { type: 'asset' as const, id: asset },
      attempt: 0,
    };
    const good = {
      type: 'shot',
      schemaVersion: 1,
      entity: { type: 'shot' as const, id: `${asset}#0` },
      temporal: { start: 0, end: 10, startSec: 0, endSec: 0.4 },
      payload: { kind: 'cut' },
    };
    await assert.rejects(
      store.writeRun(run, [
        good,
        { ...good, payload: { kind: 'cut', confidence: 'high' } },
        { ...good, temporal: { start: 10, end: 10, startSec: 0, endSec: 0.4 } },
        { ...good, type: 'text-region', payload: { score: 0.5 } },
        { ...good, schemaVersion: 7 },
        { ...good, entity: { type: 'shot' as const, id: 'no-index' } },
      ]),
      (e: AnnotationValidationError) => {
        assert.deepEqual(
          e.issues.map((i) => `${i.path}: ${i.message}`),
          [
            'annotations[1].payload.confidence: expected number',
            'annotations[2].temporal.end: expected end > start (frame ranges are [start, end))',
            'annotations[3].spatial: text-region@1 annotations need a region',
            'annotations[4].type: unknown annotation schema shot@7 (registered: shot@1)',
            'annotations[5].entity.id: a shot entity id is <assetHash>#<shotIndex>',
          ],
        );
        return true;
      },
    );
    assert.equal(await store.currentRun('shots', run.entity), null);
    const first = await store.writeRun(run, [good]);
    const again = await store.writeRun(run, [good, good]);
    assert.equal(first.created, true);
    assert.deepEqual(
      { ...again, ids: undefined },
      { runId: first.runId, created: false, current: true, count: 1, ids: undefined },
    );
    const cur = await store.currentRun('shots', run.entity);
    assert.equal(cur?.id, first.runId);
    assert.ok(cur?.publishedAt instanceof Date);
    assert.equal((await store.runs('shots', run.entity)).length, 1);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of annotations, and any run change but publishing', async () => {
    const id = all()[0]!.id;
    const refused = async (sql: string, pattern: RegExp) => {
      await assert.rejects(
        raw.query(sql),
        (e: Error & { code?: string }) => e.code === 'P0001' && pattern.test(e.message),
      );
    };
    await refused(
      `UPDATE annotations SET payload = '{}' WHERE id = ${id}`,
      /annotations is insert-only: UPDATE refused/,
    );
    await refused(`DELETE FROM annotations WHERE id = ${id}`, /annotations is insert-only: DELETE refused/);
    await refused('TRUNCATE annotations CASCADE', /insert-only: TRUNCATE refused/);
    const runId = all()[0]!.runId;
    await refused(
      `UPDATE annotation_runs SET count = 0 WHERE id = ${runId}`,
      /annotation_runs is insert-only: UPDATE refused/,
    );
    await refused(`UPDATE annotation_runs SET published_at = now() WHERE id = ${runId}`, /UPDATE refused/);
    await refused(
      `DELETE FROM annotation_runs WHERE id = ${runId}`,
      /annotation_runs is insert-only: DELETE refused/,
    );
  });
});

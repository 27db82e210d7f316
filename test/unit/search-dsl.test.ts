// The query DSL without a database: validation with precise paths, limits, the reference evaluator's semantics
// on hand-made annotations (hand-computed answers), keys, cursors and the schema registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  AnnotationSchemaRegistry,
  type AnnotationValidationError,
  defaultSchemaRegistry,
  evaluateQuery,
  normalizeAnnotations,
  parseQuery,
  parseSchemaRef,
  SearchQueryError,
  type StoredAnnotation,
} from '../../lib/search/index.ts';
import { compareText, numericText } from '../../lib/search/keys.ts';
import { randomQuery, rng } from '../../lib/search/synthetic.ts';

function errorOf(q: unknown): string {
  try {
    parseQuery(q);
  } catch (e) {
    assert.ok(e instanceof SearchQueryError);
    return `${e.code} | ${e.message}`;
  }
  return 'valid';
}

const deep = (n: number): Record<string, unknown> => (n === 0 ? { type: 'shot' } : { not: deep(n - 1) });

describe('search DSL: validation', () => {
  it('reports malformed queries with precise paths', () => {
    const cases: [unknown, string][] = [
      [
        { where: { and: [{}, { payload: { score: { gte: true } } }] } },
        'invalid | where.and[1].payload.score.gte: expected number | string',
      ],
      [
        { where: { or: [{ type: 'shot' }, { and: [{ payload: { score: { in: [1, {}] } } }] }] } },
        'invalid | where.or[1].and[0].payload.score.in[1]: expected string | number | boolean',
      ],
      [
        { where: { temporal: { overlaps: { start: 5, end: 2 } } } },
        'invalid | where.temporal.overlaps.end: expected end > start (ranges are [start, end))',
      ],
      [
        { where: { temporal: { overlaps: { start: 1.5, end: 2 } } } },
        'invalid | where.temporal.overlaps.start: expected an integer frame number',
      ],
      [
        { where: { temporal: { overlaps: { start: 1, end: 2 }, within: { start: 1, end: 2 } } } },
        'invalid | where.temporal: expected exactly one of overlaps, contains, within',
      ],
      [
        { where: { temporal: { unit: 'minutes', overlaps: { start: 1, end: 2 } } } },
        'invalid | where.temporal.unit: expected one of "frames", "seconds"',
      ],
      [
        { where: { spatial: { intersects: { x: 0.5, y: 0, w: 0, h: 1 } } } },
        'invalid | where.spatial.intersects.w: expected w > 0',
      ],
      [
        { where: { spatial: { iou: { region: { x: 0, y: 0, w: 1, h: 1 }, gte: 0 } } } },
        'invalid | where.spatial.iou.gte: expected > 0',
      ],
      [
        { where: { spatial: { within: { x: 0, y: 0, w: 1, h: 1.5 } } } },
        'invalid | where.spatial.within.h: expected ≤ 1',
      ],
      [{ where: { typo: 1 } }, 'invalid | where: unknown key "typo"'],
      [
        { where: { payload: { 'a-b': 1 } } },
        'invalid | where.payload["a-b"]: invalid key: must be a dotted path of identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 8 deep)',
      ],
      [
        { where: { payload: { "x'); DROP TABLE annotations; --": 1 } } },
        `invalid | where.payload["x'); DROP TABLE annotations; --"]: invalid key: must be a dotted path of identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 8 deep)`,
      ],
      [
        { where: { payload: { score: { gte: 1, foo: 2 } } } },
        'invalid | where.payload.score: unknown key "foo"',
      ],
      [
        { where: { payload: { score: {} } } },
        'invalid | where.payload.score: expected at least one operator',
      ],
      [
        { where: { payload: { score: null } } },
        'invalid | where.payload.score: expected string | number | boolean | object',
      ],
      [
        { where: { entityType: 'frame' } },
        'invalid | where.entityType: expected "title" | "asset" | "shot" | object',
      ],
      [
        { where: { entityType: { in: ['shot', 'frame'] } } },
        'invalid | where.entityType.in[1]: expected one of "title", "asset", "shot"',
      ],
      [{ where: { schemaVersion: 1.5 } }, 'invalid | where.schemaVersion: expected integer | object'],
      [{ where: { schemaVersion: { gte: 'x' } } }, 'invalid | where.schemaVersion.gte: expected number'],
      [{ where: { id: 'abc' } }, 'invalid | where.id: expected an annotation id (a decimal integer string)'],
      [{ where: { or: {} } }, 'invalid | where.or: expected array'],
      [
        { where: { id: { in: ['1', '9223372036854775808'] } } },
        'invalid | where.id.in[1]: expected an annotation id (a decimal integer string)',
      ],
      [{ near: { vector: [0, 0], k: 3 } }, 'invalid | near.vector: expected a non-zero vector'],
      [{ near: { k: 3 } }, 'invalid | near: expected exactly one of vector, annotation'],
      [{ near: { vector: [1], k: 0 } }, 'invalid | near.k: expected ≥ 1'],
      [{ sort: ['score'] }, 'invalid | sort[0].field: sorting by score needs a vector query (near)'],
      [
        { sort: [{ field: 'start', as: 'string' }] },
        'invalid | sort[0].as: "as" applies to payload fields only',
      ],
      [
        { sort: [{ field: 'payload.x', order: 'up' }] },
        'invalid | sort[0].order: expected one of "asc", "desc"',
      ],
      [
        { groupBy: 'color' },
        'invalid | groupBy: expected "entity" | "type" | "title" | "payload.<path>" (path: dotted identifiers [A-Za-z_][A-Za-z0-9_]*, at most 8)',
      ],
      [{ limit: 0 }, 'invalid | limit: expected ≥ 1'],
      [{ cursor: 5 }, 'invalid | cursor: expected string'],
      ['{not json', `invalid | not JSON: Expected property name or '}' in JSON at position 1`],
      [[], 'invalid | expected object'],
    ];
    for (const [q, expected] of cases) assert.equal(errorOf(q), expected, JSON.stringify(q));
  });

  it('refuses queries over the size and cost limits with specific errors', () => {
    const cases: [unknown, string][] = [
      [{ limit: 5000 }, 'limit | limit: expected ≤ 1000 (the maximum result size)'],
      [{ near: { vector: [1], k: 5000 } }, 'limit | near.k: expected ≤ 1000'],
      [{ groupBy: { by: 'entity', top: 1000 } }, 'limit | groupBy.top: expected ≤ 100'],
      [
        { where: deep(9) },
        'limit | where.not.not.not.not.not.not.not.not.not: conditions nest deeper than 8 levels (and / or / not)',
      ],
      [
        { where: { type: { in: Array.from({ length: 1001 }, (_, i) => `t${i}`) } } },
        'limit | where.type.in: more than 1000 values in "in"',
      ],
      [
        { where: { payload: { score: { in: Array.from({ length: 1001 }, (_, i) => i) } } } },
        'limit | where.payload.score.in: more than 1000 values in "in"',
      ],
      [
        { where: { and: Array.from({ length: 300 }, () => ({ type: 'shot' })) } },
        'limit | where.and[256].type: more than 256 predicates',
      ],
      [{ sort: ['start', 'end', 'type', 'id', 'producer'] }, 'limit | sort: more than 4 sort keys'],
      [{ where: deep(500) }, 'limit | query nests deeper than 8 levels (and / or / not)'],
    ];
    for (const [q, expected] of cases) assert.equal(errorOf(q), expected);
    assert.equal(errorOf(JSON.stringify({ where: { type: 'x'.repeat(300_000) } })).split(' | ')[0], 'limit');
    assert.equal(errorOf({ where: deep(8) }), 'valid');
  });

  it('fills defaults and accepts the short forms', () => {
    const q = parseQuery({
      sort: ['-start', 'payload.score'],
      groupBy: 'entity',
      near: { annotation: '12' },
    });
    assert.equal(q.limit, 50);
    assert.deepEqual(q.sort, [
      { field: 'start', order: 'desc' },
      { field: 'payload.score', order: 'asc' },
    ]);
    assert.deepEqual(q.groupBy, { by: 'entity', top: 3 });
    assert.equal(q.near?.k, 10);
  });
});

// ---- the reference evaluator on hand-made annotations --------------------------------------------------------

let nextId = 1;
function ann(over: Partial<StoredAnnotation> & { payload?: unknown }): StoredAnnotation {
  const id = String(nextId++);
  return {
    id,
    runId: '1',
    type: 'text-region',
    schemaVersion: 1,
    entity: { type: 'shot', id: `asset#${id}` },
    titleId: 't1',
    producer: 'ocr',
    valueId: null,
    temporal: { start: 0, end: 10, startSec: 0, endSec: 0.4 },
    spatial: null,
    payload: {},
    vector: null,
    ...over,
  };
}

const ids = (q: unknown, data: StoredAnnotation[]) => evaluateQuery(q, data).hits.map((h) => h.id);

describe('search DSL: reference semantics', () => {
  nextId = 1;
  const a = ann({
    payload: { score: 0.5, text: 'EXIT' },
    temporal: { start: 10, end: 20, startSec: 1, endSec: 2 },
  });
  const b = ann({
    payload: { score: 0.9 },
    temporal: { start: 20, end: 30, startSec: 2, endSec: 3 },
    titleId: null,
  });
  const c = ann({ payload: { score: '0.7', text: 'exit', nested: { n: 1 } } });
  const d = ann({
    payload: { score: null, text: 'Ä' },
    temporal: { start: 19, end: 21, startSec: 1.9, endSec: 2.1 },
  });
  const e = ann({ type: 'shot', payload: { kind: 'cut' } });
  const data = [a, b, c, d, e];

  it('payload comparisons need the operand type; ne and exists:false match missing fields', () => {
    assert.deepEqual(ids({ where: { payload: { score: { gte: 0.5 } } } }, data), [a.id, b.id]);
    assert.deepEqual(ids({ where: { payload: { score: { gte: '0' } } } }, data), [c.id]);
    assert.deepEqual(ids({ where: { payload: { score: 0.5 } } }, data), [a.id]);
    assert.deepEqual(ids({ where: { payload: { score: { ne: 0.5 } } } }, data), [b.id, c.id, d.id, e.id]);
    assert.deepEqual(ids({ where: { payload: { score: { exists: true } } } }, data), [a.id, b.id, c.id]);
    assert.deepEqual(ids({ where: { payload: { score: { exists: false } } } }, data), [d.id, e.id]);
    assert.deepEqual(ids({ where: { payload: { score: { in: [0.9, '0.7'] } } } }, data), [b.id, c.id]);
    assert.deepEqual(ids({ where: { payload: { 'nested.n': 1 } } }, data), [c.id]);
    assert.deepEqual(ids({ where: { not: { payload: { text: { gte: 'a' } } } } }, data), [a.id, b.id, e.id]);
    // Byte order: uppercase before lowercase, 'Ä' (U+00C4) after 'z'.
    assert.deepEqual(ids({ where: { payload: { text: { gt: 'z' } } } }, data), [d.id]);
  });

  it('title, type and entity filters; ne matches a missing title', () => {
    assert.deepEqual(ids({ where: { titleId: { ne: 't1' } } }, data), [b.id]);
    assert.deepEqual(ids({ where: { titleId: 't1', type: { ne: 'shot' } } }, data), [a.id, c.id, d.id]);
    assert.deepEqual(ids({ where: { entityId: { prefix: 'asset#1' } } }, data), [a.id]);
    assert.deepEqual(ids({ where: { or: [{ type: 'shot' }, { id: b.id }] } }, data), [b.id, e.id]);
  });

  it('temporal ranges are half-open, in frames or seconds', () => {
    assert.deepEqual(ids({ where: { temporal: { overlaps: { start: 20, end: 25 } } } }, data), [b.id, d.id]);
    assert.deepEqual(ids({ where: { temporal: { overlaps: { start: 0, end: 10 } } } }, data), [c.id, e.id]);
    assert.deepEqual(ids({ where: { temporal: { contains: { start: 19, end: 20 } } } }, data), [a.id, d.id]);
    assert.deepEqual(ids({ where: { temporal: { within: { start: 10, end: 30 } } } }, data), [
      a.id,
      b.id,
      d.id,
    ]);
    assert.deepEqual(
      ids({ where: { temporal: { unit: 'seconds', overlaps: { start: 2, end: 2.05 } } } }, data),
      [b.id, d.id],
    );
  });

  it('spatial tests use the bounding box: touching is not intersecting; IoU', () => {
    nextId = 100;
    const left = ann({ spatial: { x: 0, y: 0, w: 0.5, h: 0.5 } });
    const right = ann({ spatial: { x: 0.5, y: 0, w: 0.5, h: 0.5 } });
    const poly = ann({
      spatial: {
        x: 0.2,
        y: 0.6,
        w: 0.4,
        h: 0.2,
        polygon: [
          [0.2, 0.7],
          [0.4, 0.6],
          [0.6, 0.7],
          [0.4, 0.8],
        ],
      },
    });
    const none = ann({});
    const boxes = [left, right, poly, none];
    const r = (x: number, y: number, w: number, h: number) => ({ x, y, w, h });
    assert.deepEqual(ids({ where: { spatial: { intersects: r(0.5, 0, 0.1, 0.1) } } }, boxes), [right.id]);
    assert.deepEqual(ids({ where: { spatial: { within: r(0, 0.5, 1, 0.5) } } }, boxes), [poly.id]);
    assert.deepEqual(ids({ where: { spatial: { contains: r(0.1, 0.1, 0.2, 0.2) } } }, boxes), [left.id]);
    // IoU of left with [0.25, 0.75] x [0, 0.5]: 0.0625 / (0.125 + 0.125 - 0.0625) = 1/3.
    assert.deepEqual(
      ids({ where: { spatial: { iou: { region: r(0.25, 0, 0.5, 0.5), gte: 1 / 3 } } } }, boxes),
      [left.id, right.id],
    );
    assert.deepEqual(
      ids({ where: { spatial: { iou: { region: r(0.25, 0, 0.5, 0.5), gte: 0.34 } } } }, boxes),
      [],
    );
    assert.deepEqual(ids({ where: { not: { hasSpatial: true } } }, boxes), [none.id]);
  });

  it('sorts with missing values last either way, then by id', () => {
    assert.deepEqual(ids({ sort: ['payload.score'] }, data), [a.id, b.id, c.id, d.id, e.id]);
    assert.deepEqual(ids({ sort: ['-payload.score'] }, data), [b.id, a.id, c.id, d.id, e.id]);
    assert.deepEqual(ids({ sort: [{ field: 'payload.text', as: 'string', order: 'desc' }] }, data), [
      d.id,
      c.id,
      a.id,
      b.id,
      e.id,
    ]);
    assert.deepEqual(ids({ sort: ['titleId', '-start'] }, data), [d.id, a.id, c.id, e.id, b.id]);
  });

  it('groups by payload value keep 1 and "1" apart; groups ordered by count, then key', () => {
    nextId = 200;
    const g = [
      ann({ payload: { group: 1 } }),
      ann({ payload: { group: '1' } }),
      ann({ payload: { group: 1 } }),
      ann({ payload: {} }),
      ann({ payload: { group: true } }),
    ];
    const r = evaluateQuery({ groupBy: { by: 'payload.group', top: 1 }, sort: ['-id'] }, g);
    assert.deepEqual(
      r.groups?.map((x) => [x.key, x.count, x.hits.map((h) => h.id)]),
      [
        [1, 2, [g[2]!.id]],
        [true, 1, [g[4]!.id]],
        ['1', 1, [g[1]!.id]],
        [null, 1, [g[3]!.id]],
      ],
    );
  });

  it('near: cosine over float4 vectors, minScore, k, ties by id; a seed annotation is not its own neighbour', () => {
    nextId = 300;
    const v = [
      ann({ vector: [1, 0] }),
      ann({ vector: [2, 0] }),
      ann({ vector: [0, 1] }),
      ann({ vector: [1, 1] }),
      ann({ vector: [1, 0, 0] }),
      ann({}),
    ];
    const r = evaluateQuery({ near: { vector: [1, 0], k: 3 } }, v);
    assert.deepEqual(
      r.hits.map((h) => [h.id, h.score]),
      [
        [v[0]!.id, 1],
        [v[1]!.id, 1],
        [v[3]!.id, 1 / Math.sqrt(2)],
      ],
    );
    assert.deepEqual(ids({ near: { annotation: v[0]!.id, k: 10, minScore: 0.5 } }, v), [v[1]!.id, v[3]!.id]);
    assert.deepEqual(ids({ near: { vector: [1, 0], k: 10 }, sort: ['-id'], limit: 2 }, v), [
      v[3]!.id,
      v[2]!.id,
    ]);
    assert.throws(
      () => evaluateQuery({ near: { annotation: v[5]!.id, k: 1 } }, v),
      /^SearchQueryError: near.annotation: annotation \d+ has no vector$/,
    );
  });

  it('pages through a result with cursors', () => {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const r = evaluateQuery({ sort: ['-start'], limit: 2, ...(cursor ? { cursor } : {}) }, data);
      pages.push(r.hits.map((h) => h.id));
      cursor = r.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(pages, [[b.id, d.id], [a.id, c.id], [e.id]]);
  });

  it('evaluates random queries without failing', () => {
    const r = rng(9);
    const domain = {
      titleIds: ['t1'],
      entityIds: data.map((x) => x.entity.id),
      assetHashes: ['asset'],
      annotationIds: data.map((x) => x.id),
      dim: 2,
    };
    for (let i = 0; i < 300; i++) {
      try {
        evaluateQuery(randomQuery(r, domain), data);
      } catch (err) {
        assert.ok(err instanceof SearchQueryError && /has no vector$/.test(err.message), String(err));
      }
    }
  });
});

describe('search: keys and schemas', () => {
  it('prints numbers like Postgres prints jsonb numerics', () => {
    assert.equal(numericText(1e21), '1000000000000000000000');
    assert.equal(numericText(1.5e-7), '0.00000015');
    assert.equal(numericText(-2.5e-10), '-0.00000000025');
    assert.equal(numericText(1.2345e25), '12345000000000000000000000');
    assert.equal(numericText(123), '123');
    assert.equal(numericText(0.1), '0.1');
    assert.equal(numericText(-0), '0');
  });

  it('compares text in code point order (Postgres COLLATE "C")', () => {
    assert.equal(compareText('\uffff', '\u{1f600}'), -1);
    assert.equal(compareText('B', 'a'), -1);
    assert.equal(compareText('ab', 'a'), 1);
    assert.equal(compareText('é', 'é'), 0);
  });

  it('the schema registry validates payloads with paths and refuses duplicates', () => {
    const reg = defaultSchemaRegistry();
    assert.deepEqual(
      reg.list().map((s) => `${s.name}@${s.version}`),
      ['dedup-group@1', 'match-pair@1', 'shot@1', 'text-region@1'],
    );
    const bad = reg.validatePayload('match-pair', 1, {
      flavor: '',
      score: 'x',
      otherEntity: 'e',
      otherStart: 1.5,
    });
    assert.equal(bad.ok, false);
    assert.deepEqual(!bad.ok && bad.issues.map((i) => `${i.path}: ${i.message}`), [
      'payload.flavor: expected at least 1 character(s)',
      'payload.score: expected number',
      'payload.otherStart: expected integer',
      'payload.otherEnd: expected number',
    ]);
    assert.throws(
      () => reg.register({ name: 'shot', version: 1, description: '', payload: z.object({}) }),
      /already registered/,
    );
    assert.deepEqual(parseSchemaRef('text-region@1'), { name: 'text-region', version: 1 });
    assert.throws(() => parseSchemaRef('Shot'), /expected name@version/);
    const custom = new AnnotationSchemaRegistry().register({
      name: 'face',
      version: 2,
      description: 'a face',
      payload: z.strictObject({ person: z.string() }),
      spatial: 'required',
    });
    assert.equal(custom.get('face', 2)?.spatial, 'required');
  });

  it('normalizes regions, vectors and titles on write, and lists every issue', () => {
    const reg = defaultSchemaRegistry();
    const run = {
      producer: 'ocr',
      producerVersion: 1,
      entity: { type: 'asset' as const, id: 'h' },
      attempt: 0,
      titleId: 't',
    };
    const base = {
      type: 'text-region',
      schemaVersion: 1,
      entity: { type: 'shot' as const, id: 'h#1' },
      temporal: { start: 0, end: 1, startSec: 0, endSec: 0.04 },
      payload: { score: 0.5 },
    };
    const [n] = normalizeAnnotations(reg, run, [
      {
        ...base,
        spatial: {
          polygon: [
            [0.1, 0.2],
            [0.5, 0.1],
            [0.3, 0.6],
          ],
        },
        vector: [0.1, 1e-50],
      },
    ]);
    assert.equal(n!.titleId, 't');
    assert.deepEqual(
      { ...n!.spatial, polygon: undefined },
      { x: 0.1, y: 0.1, w: 0.4, h: 0.5, polygon: undefined },
    );
    assert.deepEqual(Array.from(n!.vector!), [Math.fround(0.1), 0]);
    assert.throws(
      () =>
        normalizeAnnotations(reg, { ...run, attempt: -1 }, [
          { ...base, spatial: { box: { x: 0.8, y: 0, w: 0.3, h: 0.1 } } },
          { ...base, spatial: { box: { x: 0, y: 0, w: 0.3, h: 0.1 } }, vector: [1, Number.NaN] },
          { ...base, spatial: { polygon: [[0, 0]] } },
        ]),
      (e: AnnotationValidationError) => {
        assert.deepEqual(
          e.issues.map((i) => `${i.path}: ${i.message}`),
          [
            'run.attempt: expected an integer ≥ 0',
            'annotations[0].spatial.box.w: expected x + w ≤ 1',
            'annotations[1].vector[1]: expected a finite float4 number',
            'annotations[2].spatial.polygon: expected 3 to 1024 points [x, y]',
          ],
        );
        return true;
      },
    );
  });
});

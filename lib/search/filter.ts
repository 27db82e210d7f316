// `where` conditions, compiled twice with the same semantics: to a parameterized SQL boolean over the annotation
// alias `a`, and to a JavaScript predicate for the reference evaluator. User values only ever reach SQL as
// parameters; payload paths are identifier-checked.
//
// NULL (a missing title, payload field or region) must act as false. Under AND / OR up to the WHERE it does by
// itself, so predicates stay bare, which keeps them index-friendly (`a.title_id = ANY($1)`, `box && box`); only
// negations wrap their operand, `NOT coalesce(x, false)`, where NULL would otherwise stay NULL.
import type { StoredAnnotation } from './annotation.ts';
import { compareText, type Params, resolvePath } from './keys.ts';
import type {
  Condition,
  IdMatch,
  IntMatch,
  PayloadMatch,
  PayloadOps,
  Range,
  Region,
  Scalar,
  SpatialFilter,
  StringMatch,
  TemporalFilter,
} from './query.ts';
import { fieldPath } from './query.ts';

type Pred = (a: StoredAnnotation) => boolean;

const and = (parts: string[]) =>
  parts.length === 0 ? 'TRUE' : parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
const or = (parts: string[]) =>
  parts.length === 0 ? 'FALSE' : parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
const allOf =
  (ps: Pred[]): Pred =>
  (a) =>
    ps.every((p) => p(a));

// ---- strings, ints, ids ------------------------------------------------------------------------------------

/** Negation with NULL read as false (not needed when the operand can never be NULL). */
const not = (e: string, nullable = true) => (nullable ? `NOT coalesce(${e}, false)` : `NOT (${e})`);

function stringSql(col: string, m: StringMatch, nullableCol: boolean, p: Params): string {
  const ops = typeof m === 'string' ? { eq: m } : m;
  const parts: string[] = [];
  if (ops.eq !== undefined) parts.push(`${col} = ${p.add(ops.eq, 'text')}`);
  if (ops.ne !== undefined) parts.push(not(`${col} = ${p.add(ops.ne, 'text')}`, nullableCol));
  if (ops.in !== undefined) parts.push(`${col} = ANY(${p.add(ops.in, 'text[]')})`);
  if (ops.prefix !== undefined) parts.push(`starts_with(${col}, ${p.add(ops.prefix, 'text')})`);
  return and(parts);
}

function stringJs(get: (a: StoredAnnotation) => string | null, m: StringMatch): Pred {
  const ops = typeof m === 'string' ? { eq: m } : m;
  const ps: Pred[] = [];
  if (ops.eq !== undefined) ps.push((a) => get(a) === ops.eq);
  if (ops.ne !== undefined) ps.push((a) => get(a) !== ops.ne);
  if (ops.in !== undefined) {
    const set = new Set(ops.in);
    ps.push((a) => {
      const v = get(a);
      return v !== null && set.has(v);
    });
  }
  if (ops.prefix !== undefined) ps.push((a) => get(a)?.startsWith(ops.prefix!) ?? false);
  return allOf(ps);
}

const INT_OPS = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

function intSql(col: string, m: IntMatch, p: Params): string {
  const ops = typeof m === 'number' ? { eq: m } : m;
  const parts: string[] = [];
  for (const [k, op] of Object.entries(INT_OPS)) {
    const v = ops[k as keyof typeof INT_OPS];
    if (v !== undefined) parts.push(`${col} ${op} ${p.add(v, 'int4')}`);
  }
  if (ops.in !== undefined) parts.push(`${col} = ANY(${p.add(ops.in, 'int4[]')})`);
  return and(parts);
}

function intJs(get: (a: StoredAnnotation) => number, m: IntMatch): Pred {
  const ops = typeof m === 'number' ? { eq: m } : m;
  const ps: Pred[] = [];
  if (ops.eq !== undefined) ps.push((a) => get(a) === ops.eq);
  if (ops.ne !== undefined) ps.push((a) => get(a) !== ops.ne);
  if (ops.lt !== undefined) ps.push((a) => get(a) < ops.lt!);
  if (ops.lte !== undefined) ps.push((a) => get(a) <= ops.lte!);
  if (ops.gt !== undefined) ps.push((a) => get(a) > ops.gt!);
  if (ops.gte !== undefined) ps.push((a) => get(a) >= ops.gte!);
  if (ops.in !== undefined) {
    const set = new Set(ops.in);
    ps.push((a) => set.has(get(a)));
  }
  return allOf(ps);
}

function idSql(m: IdMatch, p: Params): string {
  const ops = typeof m === 'string' ? { eq: m } : m;
  const parts: string[] = [];
  if (ops.eq !== undefined) parts.push(`a.id = ${p.add(ops.eq, 'int8')}`);
  if (ops.in !== undefined) parts.push(`a.id = ANY(${p.add(ops.in, 'int8[]')})`);
  return and(parts);
}

function idJs(m: IdMatch): Pred {
  const ops = typeof m === 'string' ? { eq: m } : m;
  const ps: Pred[] = [];
  if (ops.eq !== undefined) ps.push((a) => a.id === ops.eq);
  if (ops.in !== undefined) {
    const set = new Set(ops.in);
    ps.push((a) => set.has(a.id));
  }
  return allOf(ps);
}

// ---- payload fields ----------------------------------------------------------------------------------------
// eq / ne / in compare JSON values of the same type (numbers as numbers); lt / lte / gt / gte need the field to
// be of the operand's type (number, or string in byte order) and are false otherwise; exists means present and
// not JSON null. A missing field matches ne and exists:false only.

const ORDER_OPS = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

function payloadSql(path: string, m: PayloadMatch, p: Params): string {
  const ops: PayloadOps = typeof m === 'object' ? m : { eq: m };
  const ph = p.add(fieldPath(path), 'text[]');
  const v = `(a.payload #> ${ph})`;
  const parts: string[] = [];
  if (ops.eq !== undefined) parts.push(`${v} = ${p.add(JSON.stringify(ops.eq), 'jsonb')}`);
  if (ops.ne !== undefined) parts.push(not(`${v} = ${p.add(JSON.stringify(ops.ne), 'jsonb')}`));
  if (ops.in !== undefined)
    parts.push(
      `${v} = ANY(${p.add(
        ops.in.map((x) => JSON.stringify(x)),
        'jsonb[]',
      )})`,
    );
  for (const [k, op] of Object.entries(ORDER_OPS)) {
    const x = ops[k as keyof typeof ORDER_OPS];
    if (x === undefined) continue;
    parts.push(
      typeof x === 'number'
        ? `(jsonb_typeof(${v}) = 'number' AND ${v} ${op} ${p.add(JSON.stringify(x), 'jsonb')})`
        : `(jsonb_typeof(${v}) = 'string' AND (a.payload #>> ${ph}) COLLATE "C" ${op} ${p.add(x, 'text')})`,
    );
  }
  if (ops.exists !== undefined) {
    const e = `jsonb_typeof(${v}) <> 'null'`;
    parts.push(ops.exists ? e : not(e));
  }
  return and(parts);
}

const scalarEq = (v: unknown, x: Scalar) => typeof v === typeof x && v === x;

function orderJs(v: unknown, x: number | string, op: keyof typeof ORDER_OPS): boolean {
  if (typeof x === 'number') {
    if (typeof v !== 'number') return false;
    return op === 'lt' ? v < x : op === 'lte' ? v <= x : op === 'gt' ? v > x : v >= x;
  }
  if (typeof v !== 'string') return false;
  const c = compareText(v, x);
  return op === 'lt' ? c < 0 : op === 'lte' ? c <= 0 : op === 'gt' ? c > 0 : c >= 0;
}

function payloadJs(path: string, m: PayloadMatch): Pred {
  const ops: PayloadOps = typeof m === 'object' ? m : { eq: m };
  const segs = fieldPath(path);
  const ps: ((v: unknown) => boolean)[] = [];
  if (ops.eq !== undefined) ps.push((v) => scalarEq(v, ops.eq!));
  if (ops.ne !== undefined) ps.push((v) => !scalarEq(v, ops.ne!));
  if (ops.in !== undefined) ps.push((v) => ops.in!.some((x) => scalarEq(v, x)));
  for (const k of Object.keys(ORDER_OPS) as (keyof typeof ORDER_OPS)[]) {
    const x = ops[k];
    if (x !== undefined) ps.push((v) => orderJs(v, x, k));
  }
  if (ops.exists !== undefined) ps.push((v) => (v !== undefined && v !== null) === ops.exists);
  return (a) => {
    const v = resolvePath(a.payload, segs);
    return ps.every((f) => f(v));
  };
}

// ---- temporal ----------------------------------------------------------------------------------------------
// Ranges are [start, end). overlaps: they share an instant; contains: the annotation's range covers the query's;
// within: the annotation's range lies inside the query's. SQL prefilters with the temporal GiST box index
// (frames on x, seconds on y; the query is a slab across the other unit; box operators are closed and fuzzy,
// so they admit a superset) and then tests exactly, as the JavaScript below does.

function temporalOp(t: TemporalFilter): ['overlaps' | 'contains' | 'within', Range] {
  if (t.overlaps) return ['overlaps', t.overlaps];
  if (t.contains) return ['contains', t.contains];
  return ['within', t.within!];
}

const TBOX = 'box(point(a.frame_start, a.time_start), point(a.frame_end, a.time_end))';

function temporalSql(t: TemporalFilter, p: Params): string {
  const [op, r] = temporalOp(t);
  const seconds = t.unit === 'seconds';
  const qs = p.add(r.start, seconds ? 'float8' : 'int4');
  const qe = p.add(r.end, seconds ? 'float8' : 'int4');
  const slab = seconds
    ? `box(point('-Infinity'::float8, ${qs}), point('Infinity'::float8, ${qe}))`
    : `box(point(${qs}, '-Infinity'::float8), point(${qe}, 'Infinity'::float8))`;
  const [s, e] = seconds ? ['a.time_start', 'a.time_end'] : ['a.frame_start', 'a.frame_end'];
  if (op === 'overlaps') return `(${TBOX} && ${slab} AND ${s} < ${qe} AND ${e} > ${qs})`;
  if (op === 'contains') return `(${TBOX} && ${slab} AND ${s} <= ${qs} AND ${e} >= ${qe})`;
  return `(${TBOX} <@ ${slab} AND ${s} >= ${qs} AND ${e} <= ${qe})`;
}

function temporalJs(t: TemporalFilter): Pred {
  const [op, r] = temporalOp(t);
  const seconds = t.unit === 'seconds';
  return (a) => {
    const s = seconds ? a.temporal.startSec : a.temporal.start;
    const e = seconds ? a.temporal.endSec : a.temporal.end;
    if (op === 'overlaps') return s < r.end && e > r.start;
    if (op === 'contains') return s <= r.start && e >= r.end;
    return s >= r.start && e <= r.end;
  };
}

// ---- spatial -----------------------------------------------------------------------------------------------
// Against the annotation's bounding box (a polygon's bounds). intersects: a positive-area intersection;
// contains: the box covers the region; within: the box lies inside the region; iou: intersection over union
// ≥ gte. The GiST box index prefilters (its fuzzy && / @> / <@ match a superset); the exact test follows,
// in the same float8 arithmetic as the JavaScript below.

const BOX = 'box(point(a.x, a.y), point(a.x + a.w, a.y + a.h))';

function spatialSql(s: SpatialFilter, p: Params): string {
  const r: Region = s.intersects ?? s.contains ?? s.within ?? s.iou!.region;
  const qx = p.add(r.x, 'float8');
  const qy = p.add(r.y, 'float8');
  const qx2 = p.add(r.x + r.w, 'float8');
  const qy2 = p.add(r.y + r.h, 'float8');
  const qbox = `box(point(${qx}, ${qy}), point(${qx2}, ${qy2}))`;
  let e: string;
  if (s.intersects)
    e = `${BOX} && ${qbox} AND a.x < ${qx2} AND ${qx} < a.x + a.w AND a.y < ${qy2} AND ${qy} < a.y + a.h`;
  else if (s.contains)
    e = `${BOX} @> ${qbox} AND a.x <= ${qx} AND a.x + a.w >= ${qx2} AND a.y <= ${qy} AND a.y + a.h >= ${qy2}`;
  else if (s.within)
    e = `${BOX} <@ ${qbox} AND a.x >= ${qx} AND a.x + a.w <= ${qx2} AND a.y >= ${qy} AND a.y + a.h <= ${qy2}`;
  else {
    const area = p.add(r.w * r.h, 'float8');
    const iw = `(least(a.x + a.w, ${qx2}) - greatest(a.x, ${qx}))`;
    const ih = `(least(a.y + a.h, ${qy2}) - greatest(a.y, ${qy}))`;
    e = `${BOX} && ${qbox} AND CASE WHEN ${iw} > 0 AND ${ih} > 0 THEN (${iw} * ${ih}) / (a.w * a.h + ${area} - ${iw} * ${ih}) >= ${p.add(s.iou!.gte, 'float8')} ELSE false END`;
  }
  return `(${e})`;
}

function spatialJs(s: SpatialFilter): Pred {
  const r: Region = s.intersects ?? s.contains ?? s.within ?? s.iou!.region;
  const qx = r.x;
  const qy = r.y;
  const qx2 = r.x + r.w;
  const qy2 = r.y + r.h;
  const area = r.w * r.h;
  return (a) => {
    const b = a.spatial;
    if (!b) return false;
    const ax2 = b.x + b.w;
    const ay2 = b.y + b.h;
    if (s.intersects) return b.x < qx2 && qx < ax2 && b.y < qy2 && qy < ay2;
    if (s.contains) return b.x <= qx && ax2 >= qx2 && b.y <= qy && ay2 >= qy2;
    if (s.within) return b.x >= qx && ax2 <= qx2 && b.y >= qy && ay2 <= qy2;
    const iw = Math.min(ax2, qx2) - Math.max(b.x, qx);
    const ih = Math.min(ay2, qy2) - Math.max(b.y, qy);
    if (!(iw > 0 && ih > 0)) return false;
    return (iw * ih) / (b.w * b.h + area - iw * ih) >= s.iou!.gte;
  };
}

// ---- conditions --------------------------------------------------------------------------------------------

export function conditionSql(c: Condition, p: Params): string {
  const parts: string[] = [];
  if (c.and) parts.push(and(c.and.map((x) => conditionSql(x, p))));
  if (c.or) parts.push(or(c.or.map((x) => conditionSql(x, p))));
  if (c.not) parts.push(not(conditionSql(c.not, p)));
  if (c.id !== undefined) parts.push(idSql(c.id, p));
  if (c.type !== undefined) parts.push(stringSql('a.type', c.type, false, p));
  if (c.schemaVersion !== undefined) parts.push(intSql('a.schema_version', c.schemaVersion, p));
  if (c.entityType !== undefined) parts.push(stringSql('a.entity_type', c.entityType, false, p));
  if (c.entityId !== undefined) parts.push(stringSql('a.entity_id', c.entityId, false, p));
  if (c.titleId !== undefined) parts.push(stringSql('a.title_id', c.titleId, true, p));
  if (c.producer !== undefined) parts.push(stringSql('a.producer', c.producer, false, p));
  if (c.payload) for (const [path, m] of Object.entries(c.payload)) parts.push(payloadSql(path, m, p));
  if (c.temporal) parts.push(temporalSql(c.temporal, p));
  if (c.spatial) parts.push(spatialSql(c.spatial, p));
  if (c.hasVector !== undefined) parts.push(c.hasVector ? '(a.vector IS NOT NULL)' : '(a.vector IS NULL)');
  if (c.hasSpatial !== undefined) parts.push(c.hasSpatial ? '(a.x IS NOT NULL)' : '(a.x IS NULL)');
  return and(parts);
}

export function conditionJs(c: Condition): Pred {
  const ps: Pred[] = [];
  if (c.and) {
    const subs = c.and.map(conditionJs);
    ps.push((a) => subs.every((f) => f(a)));
  }
  if (c.or) {
    const subs = c.or.map(conditionJs);
    ps.push((a) => subs.some((f) => f(a)));
  }
  if (c.not) {
    const sub = conditionJs(c.not);
    ps.push((a) => !sub(a));
  }
  if (c.id !== undefined) ps.push(idJs(c.id));
  if (c.type !== undefined) ps.push(stringJs((a) => a.type, c.type));
  if (c.schemaVersion !== undefined) ps.push(intJs((a) => a.schemaVersion, c.schemaVersion));
  if (c.entityType !== undefined) ps.push(stringJs((a) => a.entity.type, c.entityType));
  if (c.entityId !== undefined) ps.push(stringJs((a) => a.entity.id, c.entityId));
  if (c.titleId !== undefined) ps.push(stringJs((a) => a.titleId, c.titleId));
  if (c.producer !== undefined) ps.push(stringJs((a) => a.producer, c.producer));
  if (c.payload) for (const [path, m] of Object.entries(c.payload)) ps.push(payloadJs(path, m));
  if (c.temporal) ps.push(temporalJs(c.temporal));
  if (c.spatial) ps.push(spatialJs(c.spatial));
  if (c.hasVector !== undefined) ps.push((a) => (a.vector !== null) === c.hasVector);
  if (c.hasSpatial !== undefined) ps.push((a) => (a.spatial !== null) === c.hasSpatial);
  return allOf(ps);
}

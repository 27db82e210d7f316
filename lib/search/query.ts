// The search query DSL: JSON, validated with zod, errors with precise paths. docs/search.md describes it.
import crypto from 'node:crypto';
import { z } from 'zod';
import { ENTITY_TYPES, MAX_VECTOR_DIMENSIONS } from './annotation.ts';
import { flattenZodIssues, type IssueAt, renderPath, SearchQueryError } from './errors.ts';

export type Scalar = string | number | boolean;

export interface PayloadOps {
  eq?: Scalar;
  ne?: Scalar;
  lt?: number | string;
  lte?: number | string;
  gt?: number | string;
  gte?: number | string;
  in?: Scalar[];
  exists?: boolean;
}
export type PayloadMatch = Scalar | PayloadOps;

export interface StringOps {
  eq?: string;
  ne?: string;
  in?: string[];
  prefix?: string;
}
export type StringMatch = string | StringOps;

export interface IntOps {
  eq?: number;
  ne?: number;
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
  in?: number[];
}
export type IntMatch = number | IntOps;

export interface IdOps {
  eq?: string;
  in?: string[];
}
export type IdMatch = string | IdOps;

export interface Range {
  start: number;
  end: number;
}

/** Exactly one of overlaps / contains / within; ranges are [start, end). */
export interface TemporalFilter {
  unit?: 'frames' | 'seconds';
  overlaps?: Range;
  contains?: Range;
  within?: Range;
}

export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Exactly one of intersects / contains / within / iou, against the annotation's bounding box. */
export interface SpatialFilter {
  intersects?: Region;
  contains?: Region;
  within?: Region;
  iou?: { region: Region; gte: number };
}

/** Every key present must hold (an implicit AND). `{}` matches every annotation. */
export interface Condition {
  and?: Condition[];
  or?: Condition[];
  not?: Condition;
  id?: IdMatch;
  type?: StringMatch;
  schemaVersion?: IntMatch;
  entityType?: StringMatch;
  entityId?: StringMatch;
  titleId?: StringMatch;
  producer?: StringMatch;
  payload?: Record<string, PayloadMatch>;
  temporal?: TemporalFilter;
  spatial?: SpatialFilter;
  hasVector?: boolean;
  hasSpatial?: boolean;
}

export interface Near {
  vector?: number[];
  annotation?: string;
  k: number;
  minScore?: number;
}

export type GroupField = 'entity' | 'type' | 'title' | `payload.${string}`;

export interface GroupBy {
  by: GroupField;
  /** Hits returned per group (in the query's sort order). */
  top: number;
}

export type SortField =
  | 'id'
  | 'start'
  | 'end'
  | 'timeStart'
  | 'timeEnd'
  | 'schemaVersion'
  | 'type'
  | 'entityId'
  | 'titleId'
  | 'producer'
  | 'score'
  | `payload.${string}`;

export interface SortItem {
  field: SortField;
  order: 'asc' | 'desc';
  /** How a payload field compares (default number); annotations whose field is not of that type sort last. */
  as?: 'number' | 'string';
}

export interface SearchQuery {
  where?: Condition;
  near?: Near;
  groupBy?: GroupBy;
  sort?: SortItem[];
  limit: number;
  cursor?: string;
  includeVectors?: boolean;
}

export interface SearchLimits {
  defaultLimit: number;
  maxLimit: number;
  /** Nesting of and / or / not. */
  maxDepth: number;
  /** Predicates in `where` (each key of each condition, each payload field). */
  maxPredicates: number;
  maxIn: number;
  maxK: number;
  maxTop: number;
  maxSort: number;
  maxVectorDimensions: number;
  /** Annotations a vector query may score after its filters; more is refused (add filters). */
  maxVectorCandidates: number;
  /** Serialized size of the query. */
  maxQueryBytes: number;
  /** Per statement, enforced by Postgres. */
  statementTimeoutMs: number;
}

export const defaultLimits: SearchLimits = {
  defaultLimit: 50,
  maxLimit: 1000,
  maxDepth: 8,
  maxPredicates: 256,
  maxIn: 1000,
  maxK: 1000,
  maxTop: 100,
  maxSort: 4,
  maxVectorDimensions: MAX_VECTOR_DIMENSIONS,
  maxVectorCandidates: 200_000,
  maxQueryBytes: 256 * 1024,
  statementTimeoutMs: 10_000,
};

/** A payload field path: dot-separated identifiers (`score`, `meta.lang`). */
export const FIELD_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/;
const FIELD_PATH_MESSAGE = 'must be a dotted path of identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 8 deep)';

export function fieldPath(path: string): string[] {
  return path.split('.');
}

// ---- zod schemas -------------------------------------------------------------------------------------------

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const scalar = z.union([z.string(), finite, z.boolean()]);
const int = z.number().int();
const strictOps = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape).refine((o) => Object.keys(o).length > 0, 'expected at least one operator');

const payloadOps = strictOps({
  eq: scalar.optional(),
  ne: scalar.optional(),
  lt: z.union([finite, z.string()]).optional(),
  lte: z.union([finite, z.string()]).optional(),
  gt: z.union([finite, z.string()]).optional(),
  gte: z.union([finite, z.string()]).optional(),
  in: z.array(scalar).optional(),
  exists: z.boolean().optional(),
});
const payloadMatch = z.union([scalar, payloadOps]);

const stringOps = strictOps({
  eq: z.string().optional(),
  ne: z.string().optional(),
  in: z.array(z.string()).optional(),
  prefix: z.string().min(1).optional(),
});
const stringMatch = z.union([z.string(), stringOps]);

const entityTypeName = z.enum(ENTITY_TYPES);
const entityTypeMatch = z.union([
  entityTypeName,
  strictOps({
    eq: entityTypeName.optional(),
    ne: entityTypeName.optional(),
    in: z.array(entityTypeName).optional(),
  }),
]);

const int32 = int.min(-(2 ** 31)).max(2 ** 31 - 1);
const intOps = strictOps({
  eq: int32.optional(),
  ne: int32.optional(),
  lt: int32.optional(),
  lte: int32.optional(),
  gt: int32.optional(),
  gte: int32.optional(),
  in: z.array(int32).optional(),
});
const intMatch = z.union([int32, intOps]);

/** A bigint id as a decimal string, within int8. */
export const isInt8Id = (s: string): boolean =>
  /^[1-9]\d{0,18}$/.test(s) && BigInt(s) <= 9223372036854775807n;
const annotationId = z.string().refine(isInt8Id, 'expected an annotation id (a decimal integer string)');
const idMatch = z.union([
  annotationId,
  strictOps({ eq: annotationId.optional(), in: z.array(annotationId).optional() }),
]);

const range = z.strictObject({ start: finite.min(0), end: finite.min(0) }).refine((r) => r.end > r.start, {
  message: 'expected end > start (ranges are [start, end))',
  path: ['end'],
});

const exactlyOne =
  (keys: readonly string[]) =>
  (o: Record<string, unknown>): boolean =>
    keys.filter((k) => o[k] !== undefined).length === 1;

const temporal = z
  .strictObject({
    unit: z.enum(['frames', 'seconds']).optional(),
    overlaps: range.optional(),
    contains: range.optional(),
    within: range.optional(),
  })
  .refine(
    exactlyOne(['overlaps', 'contains', 'within']),
    'expected exactly one of overlaps, contains, within',
  )
  .superRefine((t, ctx) => {
    if ((t.unit ?? 'frames') !== 'frames') return;
    for (const op of ['overlaps', 'contains', 'within'] as const) {
      const r = t[op];
      if (!r) continue;
      for (const k of ['start', 'end'] as const)
        if (!Number.isInteger(r[k]) || r[k] > 2 ** 31 - 1)
          ctx.addIssue({ code: 'custom', path: [op, k], message: 'expected an integer frame number' });
    }
  });

const unitNumber = finite.min(0).max(1);
const region = z
  .strictObject({ x: unitNumber, y: unitNumber, w: unitNumber, h: unitNumber })
  .superRefine((r, ctx) => {
    if (!(r.w > 0)) ctx.addIssue({ code: 'custom', path: ['w'], message: 'expected w > 0' });
    if (!(r.h > 0)) ctx.addIssue({ code: 'custom', path: ['h'], message: 'expected h > 0' });
  });

const spatial = z
  .strictObject({
    intersects: region.optional(),
    contains: region.optional(),
    within: region.optional(),
    iou: z.strictObject({ region, gte: finite.gt(0).max(1) }).optional(),
  })
  .refine(
    exactlyOne(['intersects', 'contains', 'within', 'iou']),
    'expected exactly one of intersects, contains, within, iou',
  );

const condition: z.ZodType<Condition> = z.strictObject({
  get and() {
    return z.array(condition).optional();
  },
  get or() {
    return z.array(condition).optional();
  },
  get not() {
    return condition.optional();
  },
  id: idMatch.optional(),
  type: stringMatch.optional(),
  schemaVersion: intMatch.optional(),
  entityType: entityTypeMatch.optional(),
  entityId: stringMatch.optional(),
  titleId: stringMatch.optional(),
  producer: stringMatch.optional(),
  payload: z.record(z.string().regex(FIELD_PATH, FIELD_PATH_MESSAGE), payloadMatch).optional(),
  temporal: temporal.optional(),
  spatial: spatial.optional(),
  hasVector: z.boolean().optional(),
  hasSpatial: z.boolean().optional(),
}) as z.ZodType<Condition>;

const near = z
  .strictObject({
    vector: z.array(finite).min(1).optional(),
    annotation: annotationId.optional(),
    k: int.min(1).default(10),
    minScore: finite.min(-1).max(1).optional(),
  })
  .refine(exactlyOne(['vector', 'annotation']), 'expected exactly one of vector, annotation');

const PAYLOAD_FIELD = /^payload\.[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/;
/** One of `names`, or `payload.<path>`; one message naming them all. */
const fieldName = <T extends string>(names: readonly T[]) =>
  z
    .string()
    .refine(
      (s) => (names as readonly string[]).includes(s) || PAYLOAD_FIELD.test(s),
      `expected ${names.map((n) => `"${n}"`).join(' | ')} | "payload.<path>" (path: dotted identifiers [A-Za-z_][A-Za-z0-9_]*, at most 8)`,
    ) as unknown as z.ZodType<T | `payload.${string}`, string>;

const groupField = fieldName(['entity', 'type', 'title'] as const);
const groupBy = z.union([
  groupField.transform((by) => ({ by, top: 3 })),
  z.strictObject({ by: groupField, top: int.min(0).default(3) }),
]);

const SORT_FIELDS = [
  'id',
  'start',
  'end',
  'timeStart',
  'timeEnd',
  'schemaVersion',
  'type',
  'entityId',
  'titleId',
  'producer',
  'score',
] as const;
const sortField = fieldName(SORT_FIELDS);
const sortItem = z.union([
  z
    .string()
    .regex(/^-?[A-Za-z_][A-Za-z0-9_.]*$/, 'expected a field name, "-" in front for descending')
    .transform((s) => ({ field: s.replace(/^-/, ''), order: s.startsWith('-') ? 'desc' : 'asc' }))
    .pipe(z.strictObject({ field: sortField, order: z.enum(['asc', 'desc']) })),
  z.strictObject({
    field: sortField,
    order: z.enum(['asc', 'desc']).default('asc'),
    as: z.enum(['number', 'string']).optional(),
  }),
]);

const query = z.strictObject({
  where: condition.optional(),
  near: near.optional(),
  groupBy: groupBy.optional(),
  sort: z.array(sortItem).optional(),
  limit: int.min(1).optional(),
  cursor: z.string().max(4096).optional(),
  includeVectors: z.boolean().optional(),
});

// ---- parsing and limits ------------------------------------------------------------------------------------

/** Deepest nesting of the raw JSON, stopped early: refuses pathological input before zod recurses into it. */
function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) return true;
    if (v && typeof v === 'object') for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
  return false;
}

function checkLimits(q: SearchQuery, limits: SearchLimits): IssueAt[] {
  const issues: IssueAt[] = [];
  let predicates = 0;
  let tooMany = false;
  const walk = (c: Condition, path: (string | number)[], depth: number) => {
    if (depth > limits.maxDepth) {
      issues.push({
        path: renderPath(path),
        message: `conditions nest deeper than ${limits.maxDepth} levels (and / or / not)`,
      });
      return;
    }
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      if (k === 'and' || k === 'or') {
        (v as Condition[]).forEach((child, i) => {
          walk(child, [...path, k, i], depth + 1);
        });
        continue;
      }
      if (k === 'not') {
        walk(v as Condition, [...path, k], depth + 1);
        continue;
      }
      predicates += k === 'payload' ? Object.keys(v as object).length : 1;
      if (predicates > limits.maxPredicates && !tooMany) {
        tooMany = true;
        issues.push({
          path: renderPath([...path, k]),
          message: `more than ${limits.maxPredicates} predicates`,
        });
      }
      const inLists: [PropertyKey[], unknown][] = [];
      if (k === 'payload')
        for (const [f, m] of Object.entries(v as Record<string, PayloadMatch>))
          if (m && typeof m === 'object' && Array.isArray(m.in)) inLists.push([[k, f, 'in'], m.in]);
      if (v && typeof v === 'object' && Array.isArray((v as { in?: unknown }).in))
        inLists.push([[k, 'in'], (v as { in: unknown[] }).in]);
      for (const [p, list] of inLists)
        if ((list as unknown[]).length > limits.maxIn)
          issues.push({
            path: renderPath([...path, ...p]),
            message: `more than ${limits.maxIn} values in "in"`,
          });
    }
  };
  if (q.where) walk(q.where, ['where'], 0);
  if (q.limit > limits.maxLimit)
    issues.push({ path: 'limit', message: `expected ≤ ${limits.maxLimit} (the maximum result size)` });
  if (q.near) {
    if (q.near.k > limits.maxK) issues.push({ path: 'near.k', message: `expected ≤ ${limits.maxK}` });
    if (q.near.vector && q.near.vector.length > limits.maxVectorDimensions)
      issues.push({ path: 'near.vector', message: `more than ${limits.maxVectorDimensions} dimensions` });
  }
  if (q.groupBy && q.groupBy.top > limits.maxTop)
    issues.push({ path: 'groupBy.top', message: `expected ≤ ${limits.maxTop}` });
  if (q.sort && q.sort.length > limits.maxSort)
    issues.push({ path: 'sort', message: `more than ${limits.maxSort} sort keys` });
  return issues;
}

function checkSemantics(q: SearchQuery): IssueAt[] {
  const issues: IssueAt[] = [];
  q.sort?.forEach((s, i) => {
    if (s.field === 'score' && !q.near)
      issues.push({ path: `sort[${i}].field`, message: 'sorting by score needs a vector query (near)' });
    if (s.as && !s.field.startsWith('payload.'))
      issues.push({ path: `sort[${i}].as`, message: '"as" applies to payload fields only' });
  });
  if (q.near?.vector) {
    let norm = 0;
    for (const x of q.near.vector) norm += x * x;
    if (!(norm > 0)) issues.push({ path: 'near.vector', message: 'expected a non-zero vector' });
  }
  return issues;
}

/**
 * Validates a query (a JSON string or a parsed value) and applies defaults. Throws SearchQueryError:
 * `invalid` with zod's precise paths, or `limit` when it exceeds a size or cost limit.
 */
export function parseQuery(input: unknown, limits: SearchLimits = defaultLimits): SearchQuery {
  let value = input;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > limits.maxQueryBytes)
      throw new SearchQueryError('limit', [
        { path: '', message: `query larger than ${limits.maxQueryBytes} bytes` },
      ]);
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new SearchQueryError('invalid', [{ path: '', message: `not JSON: ${(err as Error).message}` }]);
    }
  } else if (value !== undefined && JSON.stringify(value)?.length > limits.maxQueryBytes) {
    throw new SearchQueryError('limit', [
      { path: '', message: `query larger than ${limits.maxQueryBytes} bytes` },
    ]);
  }
  if (jsonDepthExceeds(value, limits.maxDepth * 4 + 16))
    throw new SearchQueryError('limit', [
      { path: '', message: `query nests deeper than ${limits.maxDepth} levels (and / or / not)` },
    ]);
  const r = query.safeParse(value);
  if (!r.success) throw new SearchQueryError('invalid', flattenZodIssues(r.error.issues));
  const q = { ...r.data, limit: r.data.limit ?? limits.defaultLimit } as SearchQuery;
  const limitIssues = checkLimits(q, limits);
  if (limitIssues.length > 0) throw new SearchQueryError('limit', limitIssues);
  const semantic = checkSemantics(q);
  if (semantic.length > 0) throw new SearchQueryError('invalid', semantic);
  return q;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** Identifies what a cursor may continue: the query without its page (limit, cursor, includeVectors). */
export function queryFingerprint(q: SearchQuery): string {
  const { where, near, groupBy, sort } = q;
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(canonical({ where, near, groupBy, sort })))
    .digest('base64url')
    .slice(0, 16);
}

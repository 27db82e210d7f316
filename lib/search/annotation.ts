// The annotation model: what a producer writes (AnnotationInput in a RunInput) and what readers get back
// (Annotation). Validation on write mirrors what queries assume: non-empty ranges, normalized regions,
// finite float4 vectors, payloads valid against their schema.
import { AnnotationValidationError, type IssueAt } from './errors.ts';
import type { AnnotationSchemaRegistry } from './schemas.ts';

export const ENTITY_TYPES = ['title', 'asset', 'shot'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export interface EntityRef {
  type: EntityType;
  id: string;
}

/** A shot's entity id: `<assetHash>#<shotIndex>`. */
export function shotEntityId(assetHash: string, shotIndex: number): string {
  return `${assetHash}#${shotIndex}`;
}

export function parseShotEntityId(id: string): { assetHash: string; shotIndex: number } {
  const m = /^(.+)#(\d+)$/.exec(id);
  if (!m) throw new Error(`not a shot entity id: ${JSON.stringify(id)} (expected <assetHash>#<shotIndex>)`);
  return { assetHash: m[1]!, shotIndex: Number(m[2]) };
}

/** Frame range [start, end) on the standardized derivative, and the same span in seconds [startSec, endSec). */
export interface Temporal {
  start: number;
  end: number;
  startSec: number;
  endSec: number;
}

/** A box, normalized to the frame (0..1, origin top-left). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Point = [number, number];

/** A box, or a polygon (its bounding box is what spatial queries test). */
export type SpatialInput = { box: Box } | { polygon: Point[] };

export interface Spatial extends Box {
  /** Present when the region was written as a polygon; x, y, w, h are then its bounds. */
  polygon?: Point[];
}

export interface AnnotationInput {
  /** Schema name and version, e.g. `shot` and 1 (see schemas.ts). */
  type: string;
  schemaVersion: number;
  entity: EntityRef;
  /** Defaults to the run's title. */
  titleId?: string | null;
  temporal: Temporal;
  spatial?: SpatialInput | null;
  vector?: readonly number[] | Float32Array | null;
  payload: unknown;
}

/** One producer's output for one entity. Runs of the same producer and entity supersede each other. */
export interface RunInput {
  /** The producing feature (name) and its version. */
  producer: string;
  producerVersion: number;
  /** The entity the producer ran on (e.g. the asset whose shots these are). */
  entity: EntityRef;
  /** Computation attempt of the producing value; (producerVersion, attempt) orders runs. */
  attempt: number;
  titleId?: string | null;
  /** The feature value the annotations come from. */
  valueId?: string | bigint | null;
}

/** A stored, visible annotation as readers see it. */
export interface Annotation {
  id: string;
  runId: string;
  type: string;
  schemaVersion: number;
  entity: EntityRef;
  titleId: string | null;
  producer: string;
  valueId: string | null;
  temporal: Temporal;
  spatial: Spatial | null;
  payload: unknown;
  /** float4 values (present on hits only with `includeVectors`). */
  vector?: number[] | null;
  /** Cosine similarity to the query vector (vector queries only). */
  score?: number;
}

/** What the reference evaluator works on: a visible annotation with its vector (or null). */
export type StoredAnnotation = Annotation & { vector: number[] | null };

/** A validated annotation ready to be stored (payload parsed, region reduced to bounds, vector rounded to float4). */
export interface NormalizedAnnotation {
  type: string;
  schemaVersion: number;
  entity: EntityRef;
  titleId: string | null;
  temporal: Temporal;
  spatial: Spatial | null;
  vector: Float32Array | null;
  payload: unknown;
}

export const MAX_VECTOR_DIMENSIONS = 4096;
const EPS = 1e-9;
const INT4_MAX = 2 ** 31 - 1;

function checkEntity(entity: unknown, path: string, issues: IssueAt[]): void {
  const e = entity as Partial<EntityRef> | null;
  if (!e || typeof e !== 'object') {
    issues.push({ path, message: 'expected object {type, id}' });
    return;
  }
  if (!ENTITY_TYPES.includes(e.type as EntityType))
    issues.push({
      path: `${path}.type`,
      message: `expected one of ${ENTITY_TYPES.map((t) => `"${t}"`).join(', ')}`,
    });
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 512)
    issues.push({ path: `${path}.id`, message: 'expected a non-empty string (≤ 512 characters)' });
  else if (e.type === 'shot' && !/^.+#\d+$/.test(e.id))
    issues.push({ path: `${path}.id`, message: 'a shot entity id is <assetHash>#<shotIndex>' });
}

function checkTemporal(t: unknown, path: string, issues: IssueAt[]): void {
  const r = t as Partial<Temporal> | null;
  if (!r || typeof r !== 'object') {
    issues.push({ path, message: 'expected object {start, end, startSec, endSec}' });
    return;
  }
  for (const k of ['start', 'end'] as const) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > INT4_MAX)
      issues.push({ path: `${path}.${k}`, message: 'expected an integer frame number ≥ 0' });
  }
  for (const k of ['startSec', 'endSec'] as const) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      issues.push({ path: `${path}.${k}`, message: 'expected a finite number of seconds ≥ 0' });
  }
  if (typeof r.start === 'number' && typeof r.end === 'number' && !(r.end > r.start))
    issues.push({ path: `${path}.end`, message: 'expected end > start (frame ranges are [start, end))' });
  if (typeof r.startSec === 'number' && typeof r.endSec === 'number' && !(r.endSec > r.startSec))
    issues.push({ path: `${path}.endSec`, message: 'expected endSec > startSec' });
}

const isUnit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/** Validates a box (normalized, positive size, inside the frame). */
export function checkBox(b: unknown, path: string, issues: IssueAt[]): b is Box {
  const box = b as Partial<Box> | null;
  if (!box || typeof box !== 'object' || Array.isArray(box)) {
    issues.push({ path, message: 'expected object {x, y, w, h}' });
    return false;
  }
  const before = issues.length;
  for (const k of ['x', 'y', 'w', 'h'] as const)
    if (!isUnit(box[k])) issues.push({ path: `${path}.${k}`, message: 'expected a number in [0, 1]' });
  if (issues.length > before) return false;
  if (!(box.w! > 0)) issues.push({ path: `${path}.w`, message: 'expected w > 0' });
  if (!(box.h! > 0)) issues.push({ path: `${path}.h`, message: 'expected h > 0' });
  if (box.x! + box.w! > 1 + EPS) issues.push({ path: `${path}.w`, message: 'expected x + w ≤ 1' });
  if (box.y! + box.h! > 1 + EPS) issues.push({ path: `${path}.h`, message: 'expected y + h ≤ 1' });
  return issues.length === before;
}

function normalizeSpatial(s: unknown, path: string, issues: IssueAt[]): Spatial | null {
  if (s === null || s === undefined) return null;
  const o = s as { box?: unknown; polygon?: unknown };
  if (typeof o !== 'object' || (o.box === undefined) === (o.polygon === undefined)) {
    issues.push({ path, message: 'expected {box: {x, y, w, h}} or {polygon: [[x, y], …]}' });
    return null;
  }
  if (o.box !== undefined) {
    if (!checkBox(o.box, `${path}.box`, issues)) return null;
    const { x, y, w, h } = o.box as Box;
    return { x, y, w, h };
  }
  const pts = o.polygon;
  if (!Array.isArray(pts) || pts.length < 3 || pts.length > 1024) {
    issues.push({ path: `${path}.polygon`, message: 'expected 3 to 1024 points [x, y]' });
    return null;
  }
  const before = issues.length;
  pts.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !isUnit(p[0]) || !isUnit(p[1]))
      issues.push({ path: `${path}.polygon[${i}]`, message: 'expected [x, y] with x, y in [0, 1]' });
  });
  if (issues.length > before) return null;
  const xs = (pts as Point[]).map((p) => p[0]);
  const ys = (pts as Point[]).map((p) => p[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  const w = Math.max(...xs) - x;
  const h = Math.max(...ys) - y;
  if (!(w > 0 && h > 0)) {
    issues.push({ path: `${path}.polygon`, message: 'expected a polygon with a positive-area bounding box' });
    return null;
  }
  return { x, y, w, h, polygon: (pts as Point[]).map((p) => [p[0], p[1]] as Point) };
}

function normalizeVector(v: unknown, path: string, issues: IssueAt[]): Float32Array | null {
  if (v === null || v === undefined) return null;
  if (
    !(Array.isArray(v) || v instanceof Float32Array) ||
    v.length === 0 ||
    v.length > MAX_VECTOR_DIMENSIONS
  ) {
    issues.push({ path, message: `expected an array of 1 to ${MAX_VECTOR_DIMENSIONS} numbers` });
    return null;
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || !Number.isFinite(Math.fround(x))) {
      issues.push({ path: `${path}[${i}]`, message: 'expected a finite float4 number' });
      return null;
    }
    out[i] = x;
  }
  return out;
}

export function validateRun(run: RunInput): IssueAt[] {
  const issues: IssueAt[] = [];
  if (typeof run.producer !== 'string' || !/^[a-z0-9][a-z0-9:._-]*$/i.test(run.producer))
    issues.push({ path: 'run.producer', message: 'expected a feature name' });
  if (!Number.isInteger(run.producerVersion) || run.producerVersion < 0)
    issues.push({ path: 'run.producerVersion', message: 'expected an integer ≥ 0' });
  if (!Number.isInteger(run.attempt) || run.attempt < 0)
    issues.push({ path: 'run.attempt', message: 'expected an integer ≥ 0' });
  checkEntity(run.entity, 'run.entity', issues);
  if (run.valueId !== undefined && run.valueId !== null && !/^\d+$/.test(String(run.valueId)))
    issues.push({ path: 'run.valueId', message: 'expected a feature value id' });
  return issues;
}

/**
 * Validates and normalizes a run's annotations. Throws AnnotationValidationError with every issue
 * (`annotations[3].payload.score: expected number`).
 */
export function normalizeAnnotations(
  registry: AnnotationSchemaRegistry,
  run: RunInput,
  annotations: readonly AnnotationInput[],
): NormalizedAnnotation[] {
  const issues = validateRun(run);
  const out: NormalizedAnnotation[] = [];
  annotations.forEach((a, i) => {
    const p = `annotations[${i}]`;
    const before = issues.length;
    if (!a || typeof a !== 'object') {
      issues.push({ path: p, message: 'expected object' });
      return;
    }
    checkEntity(a.entity, `${p}.entity`, issues);
    checkTemporal(a.temporal, `${p}.temporal`, issues);
    const spatial = normalizeSpatial(a.spatial, `${p}.spatial`, issues);
    const vector = normalizeVector(a.vector, `${p}.vector`, issues);
    if (a.titleId !== undefined && a.titleId !== null && typeof a.titleId !== 'string')
      issues.push({ path: `${p}.titleId`, message: 'expected string or null' });
    let payload: unknown;
    if (typeof a.type !== 'string' || !Number.isInteger(a.schemaVersion)) {
      issues.push({ path: `${p}.type`, message: 'expected a schema name and an integer schemaVersion' });
    } else {
      const r = registry.validatePayload(a.type, a.schemaVersion, a.payload, `${p}.payload`);
      if (!r.ok) {
        for (const issue of r.issues)
          issues.push({ path: issue.path || `${p}.type`, message: issue.message });
      } else {
        payload = r.payload;
        const rule = r.schema.spatial ?? 'optional';
        if (rule === 'required' && a.spatial == null)
          issues.push({
            path: `${p}.spatial`,
            message: `${a.type}@${a.schemaVersion} annotations need a region`,
          });
        if (rule === 'none' && a.spatial != null)
          issues.push({
            path: `${p}.spatial`,
            message: `${a.type}@${a.schemaVersion} annotations have no region`,
          });
      }
    }
    if (issues.length > before) return;
    out.push({
      type: a.type,
      schemaVersion: a.schemaVersion,
      entity: { type: a.entity.type, id: a.entity.id },
      titleId: a.titleId === undefined ? (run.titleId ?? null) : a.titleId,
      temporal: {
        start: a.temporal.start,
        end: a.temporal.end,
        startSec: a.temporal.startSec,
        endSec: a.temporal.endSec,
      },
      spatial,
      vector,
      payload,
    });
  });
  if (issues.length > 0) throw new AnnotationValidationError(issues);
  return out;
}

// Deterministic synthetic annotations for tests and benchmarks: titles → assets → shots, with one run per
// (producer, asset) of the built-in schemas: shot@1 (with a vector), dedup-group@1, match-pair@1 and
// text-region@1 (boxes and polygons). Values are drawn from small sets on purpose so sorts have ties.
import { seededRandom } from '../matchcut/random.ts';
import { type AnnotationInput, type RunInput, shotEntityId } from './annotation.ts';
import type { Condition, Region, SortItem } from './query.ts';

/** Seeded numbers (mulberry32): the same seed gives the same data on every machine. */
export const rng = seededRandom;

export interface SyntheticOptions {
  seed?: number;
  titles: number;
  assetsPerTitle: number;
  shotsPerAsset: number;
  /** Vector dimensions of shot annotations (0: none). */
  dim?: number;
  /** Vector clusters (near-duplicates share one). */
  clusters?: number;
  fps?: number;
  /** Title ids are `<titlePrefix><n>` (default `title-`). */
  titlePrefix?: string;
  /** Replaces the start of every asset hash (keeps reruns against one database apart; the rest is seeded). */
  salt?: string;
}

export interface SyntheticRun {
  run: RunInput;
  annotations: AnnotationInput[];
}

export const hex64 = (r: () => number): string =>
  Array.from({ length: 8 }, () =>
    Math.floor(r() * 2 ** 32)
      .toString(16)
      .padStart(8, '0'),
  ).join('');

const TEXTS = ['EXIT', 'OPEN', 'Hotel', 'POLICE', 'café', 'Ünïcode', 'a', 'B', '', 'zzz'];
const KINDS = ['cut', 'dissolve', 'fade-in', 'fade-out'] as const;
const FLAVORS = ['color', 'motion', 'pose'];

/** Yields runs asset by asset (a million annotations never sit in memory at once). */
export function* syntheticRuns(o: SyntheticOptions): Generator<SyntheticRun> {
  const r = rng(o.seed ?? 1);
  const dim = o.dim ?? 16;
  const fps = o.fps ?? 24;
  const nClusters = o.clusters ?? 32;
  const centers = Array.from({ length: nClusters }, () => Array.from({ length: dim }, () => r() * 2 - 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const round = (x: number, step: number) => Math.round(x / step) * step;

  for (let t = 0; t < o.titles; t++) {
    const titleId = `${o.titlePrefix ?? 'title-'}${t}`;
    for (let s = 0; s < o.assetsPerTitle; s++) {
      const asset = (o.salt ?? '') + hex64(r).slice((o.salt ?? '').length);
      const entity = { type: 'asset' as const, id: asset };
      const base = { producerVersion: 1, entity, attempt: 0, titleId };
      const shots: { id: string; start: number; end: number }[] = [];
      let frame = 0;
      for (let i = 0; i < o.shotsPerAsset; i++) {
        const len = 1 + Math.floor(r() * 120);
        shots.push({ id: shotEntityId(asset, i), start: frame, end: frame + len });
        frame += len;
      }
      const temporal = (start: number, end: number) => ({
        start,
        end,
        startSec: start / fps,
        endSec: end / fps,
      });

      yield {
        run: { ...base, producer: 'shots' },
        annotations: shots.map((sh, i) => {
          const c = centers[Math.floor(r() * nClusters)]!;
          return {
            type: 'shot',
            schemaVersion: 1,
            entity: { type: 'shot', id: sh.id },
            temporal: temporal(sh.start, sh.end),
            vector: dim > 0 ? c.map((x) => x + (r() - 0.5) * 0.6) : null,
            payload:
              i === 0
                ? { kind: 'start' }
                : r() < 0.2
                  ? { kind: pick(KINDS) }
                  : { kind: pick(KINDS), confidence: round(r(), 0.05) },
          };
        }),
      };
      yield {
        run: { ...base, producer: 'shot-dedup' },
        annotations: shots.map((sh) => ({
          type: 'dedup-group',
          schemaVersion: 1,
          entity: { type: 'shot', id: sh.id },
          temporal: temporal(sh.start, sh.end),
          payload: { group: r() < 0.5 ? Math.floor(r() * 20) : `g${Math.floor(r() * 20)}`, kept: r() < 0.3 },
        })),
      };
      yield {
        run: { ...base, producer: 'matchcut-pairs' },
        annotations: shots.map((sh) => {
          const other = pick(shots);
          return {
            type: 'match-pair',
            schemaVersion: 1,
            entity: { type: 'shot', id: sh.id },
            temporal: temporal(sh.start, sh.end),
            payload: {
              flavor: pick(FLAVORS),
              score: round(r(), 0.01),
              otherEntity: other.id,
              otherStart: other.start,
              otherEnd: other.end,
            },
          };
        }),
      };
      const regions: AnnotationInput[] = [];
      for (const sh of shots) {
        const n = Math.floor(r() * 4); // 0..3 text regions per shot, 1.5 on average
        for (let k = 0; k < n; k++) {
          const w = round(0.05 + r() * 0.5, 0.01);
          const h = round(0.03 + r() * 0.2, 0.01);
          const x = round(r() * (1 - w), 0.01);
          const y = round(r() * (1 - h), 0.01);
          const start = sh.start + Math.floor(r() * (sh.end - sh.start));
          const end = start + 1 + Math.floor(r() * (sh.end - start));
          const polygon = r() < 0.2;
          regions.push({
            type: 'text-region',
            schemaVersion: 1,
            entity: { type: 'shot', id: sh.id },
            temporal: temporal(start, end),
            spatial: polygon
              ? {
                  polygon: [
                    [x, y + h / 2],
                    [x + w / 2, y],
                    [Math.min(1, x + w), y + h / 2],
                    [x + w / 2, Math.min(1, y + h)],
                  ],
                }
              : { box: { x, y, w: Math.min(w, 1 - x), h: Math.min(h, 1 - y) } },
            payload: r() < 0.3 ? { score: round(r(), 0.05) } : { text: pick(TEXTS), score: round(r(), 0.05) },
          });
        }
      }
      yield { run: { ...base, producer: 'text-regions' }, annotations: regions };
    }
  }
}

// ---- random queries (for testing the executors against the reference) ------------------------------------

export interface QueryDomain {
  titleIds: string[];
  entityIds: string[];
  assetHashes: string[];
  annotationIds: string[];
  dim: number;
}

/** A random query over the synthetic data's domain: every operator, nested and / or / not, sorts, groups, near. */
export function randomQuery(r: () => number, d: QueryDomain): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const some = <T>(xs: readonly T[], n: number): T[] =>
    Array.from({ length: 1 + Math.floor(r() * n) }, () => pick(xs));
  const num = (step: number, max = 1) => Math.round((r() * max) / step) * step;
  const region = (): Region => {
    const w = 0.05 + num(0.01, 0.6);
    const h = 0.05 + num(0.01, 0.5);
    return { x: num(0.01, 1 - w), y: num(0.01, 1 - h), w, h };
  };
  const range = (seconds: boolean) => {
    const start = seconds ? num(0.25, 400) : Math.floor(r() * 8000);
    const len = seconds ? 0.25 + num(0.25, 30) : 1 + Math.floor(r() * 600);
    return { start, end: start + len };
  };
  const leaf = (): Condition => {
    switch (Math.floor(r() * 16)) {
      case 0:
        return { type: pick(['shot', 'dedup-group', 'match-pair', 'text-region']) };
      case 1:
        return { type: { in: some(['shot', 'dedup-group', 'match-pair', 'text-region', 'nope'], 3) } };
      case 2:
        return r() < 0.5
          ? { entityId: pick(d.entityIds) }
          : { entityId: { prefix: `${pick(d.assetHashes)}#` } };
      case 3:
        return r() < 0.5 ? { titleId: pick(d.titleIds) } : { titleId: { ne: pick(d.titleIds) } };
      case 4:
        return { producer: { in: some(['shots', 'shot-dedup', 'matchcut-pairs', 'text-regions'], 2) } };
      case 5:
        return { schemaVersion: pick([1, { gte: 1 }, { ne: 1 }, { in: [1, 2] }, { lt: 1 }]) };
      case 6:
        return {
          payload: {
            [pick(['kind', 'flavor', 'text'])]: pick([
              'cut',
              'dissolve',
              'color',
              'EXIT',
              'café',
              { ne: 'cut' },
              { in: ['cut', 'fade-in', 'pose', 'Hotel'] },
              { gte: 'H' },
              { lt: 'd' },
              { exists: r() < 0.5 },
            ]),
          },
        };
      case 7:
        return {
          payload: {
            [pick(['confidence', 'score', 'otherStart', 'group'])]: pick([
              { gte: num(0.05) },
              { lt: num(0.05) },
              { gt: num(0.05), lte: num(0.05) + 0.5 },
              { eq: num(0.05) },
              { ne: num(0.05) },
              { exists: true },
              { in: [0.5, 1, 3, 'g3', num(0.05)] },
              Math.floor(r() * 20),
              { gte: Math.floor(r() * 3000) },
            ]),
          },
        };
      case 8:
        return { payload: { kept: r() < 0.5 } };
      case 9:
      case 10: {
        const seconds = r() < 0.5;
        const op = pick(['overlaps', 'contains', 'within']);
        return { temporal: { unit: seconds ? 'seconds' : 'frames', [op]: range(seconds) } };
      }
      case 11:
      case 12: {
        const op = pick(['intersects', 'contains', 'within', 'iou']);
        if (op === 'iou') return { spatial: { iou: { region: region(), gte: pick([0.01, 0.1, 0.3, 0.5]) } } };
        if (op === 'contains') {
          const x = num(0.01, 0.8);
          const y = num(0.01, 0.8);
          return { spatial: { contains: { x, y, w: 0.01 + num(0.01, 0.1), h: 0.01 + num(0.01, 0.1) } } };
        }
        return { spatial: { [op]: region() } };
      }
      case 13:
        return r() < 0.5 ? { hasVector: r() < 0.5 } : { hasSpatial: r() < 0.5 };
      case 14:
        return { id: { in: some(d.annotationIds, 40) } };
      default:
        return { entityType: pick(['shot', 'asset', { in: ['shot', 'title'] }, { ne: 'shot' }]) };
    }
  };
  const cond = (depth: number): Condition => {
    const x = r();
    if (depth < 3 && x < 0.15)
      return { and: Array.from({ length: 1 + Math.floor(r() * 3) }, () => cond(depth + 1)) };
    if (depth < 3 && x < 0.3)
      return { or: Array.from({ length: 1 + Math.floor(r() * 3) }, () => cond(depth + 1)) };
    if (depth < 3 && x < 0.38) return { not: cond(depth + 1) };
    if (x < 0.48) return { ...leaf(), ...leaf() };
    return leaf();
  };
  const q: Record<string, unknown> = { where: cond(0), limit: 1 + Math.floor(r() * 40) };
  const near = r() < 0.2;
  if (near) {
    q.near =
      r() < 0.5
        ? { vector: Array.from({ length: d.dim }, () => r() * 2 - 1), k: 1 + Math.floor(r() * 60) }
        : {
            annotation: pick(d.annotationIds),
            k: 1 + Math.floor(r() * 60),
            ...(r() < 0.5 ? { minScore: 0.2 } : {}),
          };
  }
  if (r() < 0.6) {
    const fields: SortItem['field'][] = [
      'start',
      'end',
      'timeStart',
      'timeEnd',
      'type',
      'entityId',
      'titleId',
      'producer',
      'schemaVersion',
      'id',
      'payload.score',
      'payload.confidence',
      'payload.kind',
      'payload.group',
      'payload.text',
    ];
    if (near) fields.push('score');
    q.sort = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const field = pick(fields);
      const item: Record<string, unknown> = { field, order: r() < 0.5 ? 'asc' : 'desc' };
      if (field.startsWith('payload.') && r() < 0.5) item.as = pick(['number', 'string']);
      return item;
    });
  }
  if (r() < 0.25)
    q.groupBy = {
      by: pick(['entity', 'type', 'title', 'payload.kind', 'payload.group', 'payload.kept', 'payload.score']),
      top: Math.floor(r() * 4),
    };
  return q;
}

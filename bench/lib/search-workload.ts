// The synthetic load and the query mix of the search benchmarks (in-process and over gRPC): one factory per kind, drawing titles,
// times, regions, vectors and annotation ids from the caller's seeded generator, so both benchmarks ask the same
// kinds of questions of the same synthetic annotations (lib/search/synthetic.ts).

import type { AnnotationStore } from '../../lib/search/index.ts';
import { type SyntheticOptions, syntheticRuns } from '../../lib/search/synthetic.ts';

export interface QueryKind {
  name: string;
  /** p95 goal in milliseconds. */
  goalMs: number;
  note: string;
  make: () => unknown;
}

export interface QueryMixOptions {
  /** Titles are `title-0` … `title-(titles − 1)`. */
  titles: number;
  /** Shots per title, for the notes. */
  shotsPerTitle: number;
  dim: number;
  /** Ids of shot annotations to look up and to search near. */
  shotIds: readonly string[];
}

/** Every kind of query the search benchmarks time, each drawing its parameters from `r` per call. */
export function searchQueryKinds(r: () => number, o: QueryMixOptions): QueryKind[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const title = () => `title-${Math.floor(r() * o.titles)}`;
  const region = () => {
    const w = 0.1 + r() * 0.4;
    const h = 0.05 + r() * 0.2;
    return { x: r() * (1 - w), y: r() * (1 - h), w, h };
  };
  const seconds = () => Math.floor(r() * 400);
  const vector = () => Array.from({ length: o.dim }, () => r() * 2 - 1);
  return [
    {
      name: 'filter',
      goalMs: 50,
      note: 'type + title + payload (eq, gte), sorted by a payload field',
      make: () => ({
        where: {
          type: 'match-pair',
          titleId: title(),
          payload: { flavor: pick(['color', 'motion', 'pose']), score: { gte: 0.5 } },
        },
        sort: ['-payload.score'],
        limit: 50,
      }),
    },
    {
      name: 'filter (entities)',
      goalMs: 50,
      note: 'type + 20 entity ids',
      make: () => ({
        where: {
          type: { in: ['shot', 'dedup-group'] },
          id: { in: Array.from({ length: 20 }, () => pick(o.shotIds)) },
        },
      }),
    },
    {
      name: 'temporal',
      goalMs: 50,
      note: 'shots overlapping a 2 s window, all titles, sorted by start',
      make: () => {
        const s = seconds();
        return {
          where: { type: 'shot', temporal: { unit: 'seconds', overlaps: { start: s, end: s + 2 } } },
          sort: ['start'],
          limit: 50,
        };
      },
    },
    {
      name: 'spatial',
      goalMs: 50,
      note: 'text regions of a title within the lower third, between two times',
      make: () => {
        const s = seconds();
        return {
          where: {
            type: 'text-region',
            titleId: title(),
            spatial: { within: { x: 0, y: 2 / 3, w: 1, h: 1 / 3 } },
            temporal: { unit: 'seconds', overlaps: { start: s, end: s + 60 } },
          },
          limit: 50,
        };
      },
    },
    {
      name: 'spatial (IoU)',
      goalMs: 50,
      note: 'text regions of a title with IoU ≥ 0.3 to a region',
      make: () => ({
        where: { titleId: title(), type: 'text-region', spatial: { iou: { region: region(), gte: 0.3 } } },
        limit: 50,
      }),
    },
    {
      name: 'vector+filter',
      goalMs: 100,
      note: `k = 20 nearest of a title's shots (${o.shotsPerTitle} × ${o.dim}-d), exact cosine`,
      make: () => ({
        where: { type: 'shot', titleId: title() },
        near: { vector: vector(), k: 20 },
        limit: 20,
      }),
    },
    {
      name: 'vector+filter (near an annotation)',
      goalMs: 100,
      note: 'k = 20 nearest shots to a shot, same title filter, minScore 0.5',
      make: () => ({
        where: { type: 'shot', titleId: title() },
        near: { annotation: pick(o.shotIds), k: 20, minScore: 0.5 },
      }),
    },
    {
      name: 'grouped',
      goalMs: 50,
      note: "a title's dedup groups by payload.group, counts and top 3",
      make: () => ({
        where: { titleId: title(), type: 'dedup-group' },
        groupBy: { by: 'payload.group', top: 3 },
        limit: 20,
      }),
    },
    {
      name: 'grouped (entity)',
      goalMs: 50,
      note: "a title's text regions grouped by shot, counts and top 2 by score",
      make: () => ({
        where: { titleId: title(), type: 'text-region', payload: { score: { gte: 0.5 } } },
        groupBy: { by: 'entity', top: 2 },
        sort: ['-payload.score'],
        limit: 20,
      }),
    },
  ];
}

/** What loading the synthetic annotations took, and shot annotation ids to query with. */
export interface SyntheticLoad {
  annotations: number;
  runs: number;
  seconds: number;
  /** Up to 5,000 ids of shot annotations (the first 5 of each shots run). */
  shotIds: string[];
}

/**
 * Writes every run of `syntheticRuns(options)` through `writeRun` with `writers` concurrent writers, printing the
 * rate every 10 s.
 */
export async function loadSynthetic(
  store: Pick<AnnotationStore, 'writeRun'>,
  options: SyntheticOptions,
  writers: number,
): Promise<SyntheticLoad> {
  const gen = syntheticRuns(options);
  const out: SyntheticLoad = { annotations: 0, runs: 0, seconds: 0, shotIds: [] };
  const t0 = performance.now();
  let lastPrint = t0;
  const writer = async () => {
    for (let next = gen.next(); !next.done; next = gen.next()) {
      const { run, annotations } = next.value;
      const res = await store.writeRun(run, annotations);
      if (run.producer === 'shots' && out.shotIds.length < 5000) out.shotIds.push(...res.ids.slice(0, 5));
      out.annotations += res.count;
      out.runs++;
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        const s = (lastPrint - t0) / 1000;
        process.stdout.write(
          `  loaded ${out.annotations} annotations in ${s.toFixed(0)} s (${Math.round(out.annotations / s)}/s)\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

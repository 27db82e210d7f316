// Search benchmarks (issue 6) on a fresh embedded Postgres:
//  1. load ~1M synthetic annotations (100 titles × 10 assets × 225 shots; shot@1 with 64-d vectors,
//     dedup-group@1, match-pair@1, text-region@1 with boxes and polygons) through AnnotationStore.writeRun,
//     one run per (producer, asset), a few writers in parallel: annotations/s end to end (validation included);
//  2. p50 / p95 latency of filter, temporal, spatial, vector+filter and grouped queries (store.search, one
//     client, parameters drawn at random per call);
//  3. the same temporal-overlap SQL with the GiST index and as a sequential scan (index and bitmap scans off),
//     interleaved in the same run: medians and their ratio, identical row counts.
// The 100 concurrent gRPC clients figure comes with the SearchService.
import pg from 'pg';
import { AnnotationStore, parseQuery, type SearchQuery } from '../lib/search/index.ts';
import { rng, syntheticRuns } from '../lib/search/synthetic.ts';
import { resolveDatabaseUrl } from '../lib/stack/endpoints.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';
import { type Figure, median, percentile, report, round } from './lib/report.ts';

const n = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TITLES = n('BENCH_SEARCH_TITLES', 100);
const ASSETS = n('BENCH_SEARCH_ASSETS', 10);
const SHOTS = n('BENCH_SEARCH_SHOTS', 225);
const DIM = n('BENCH_SEARCH_DIM', 64);
const WRITERS = n('BENCH_SEARCH_WRITERS', 3);
const QUERIES = n('BENCH_SEARCH_QUERIES', 200);
const SCAN_ROUNDS = n('BENCH_SEARCH_SCAN_ROUNDS', 15);
const FPS = 24;

const stack = await startEphemeralStack('bench-search');
const url = resolveDatabaseUrl(stack.config);
const store = AnnotationStore.connect(url, { poolSize: WRITERS + 2, batchSize: 2000 });
const raw = new pg.Client({ connectionString: url });
await raw.connect();
const figures: Figure[] = [];
const extra: Record<string, unknown> = {
  titles: TITLES,
  assetsPerTitle: ASSETS,
  shotsPerAsset: SHOTS,
  dim: DIM,
};

try {
  // ---- 1. load ----------------------------------------------------------------------------------------------
  const gen = syntheticRuns({
    seed: 42,
    titles: TITLES,
    assetsPerTitle: ASSETS,
    shotsPerAsset: SHOTS,
    dim: DIM,
    fps: FPS,
  });
  const shotIds: string[] = [];
  let loaded = 0;
  let runs = 0;
  const t0 = performance.now();
  let lastPrint = t0;
  const writer = async () => {
    for (;;) {
      const next = gen.next();
      if (next.done) return;
      const { run, annotations } = next.value;
      const res = await store.writeRun(run, annotations);
      if (run.producer === 'shots' && shotIds.length < 5000) shotIds.push(...res.ids.slice(0, 5));
      loaded += res.count;
      runs++;
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        const s = (lastPrint - t0) / 1000;
        process.stdout.write(
          `  loaded ${loaded} annotations in ${s.toFixed(0)} s (${Math.round(loaded / s)}/s)\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
  const loadS = (performance.now() - t0) / 1000;
  const rate = loaded / loadS;
  figures.push(
    {
      metric: 'annotations loaded',
      value: loaded,
      unit: 'annotations',
      note: `${runs} runs, ${WRITERS} writers`,
    },
    {
      metric: 'load rate (writeRun, validation included)',
      value: Math.round(rate),
      unit: 'annotations/s',
      goal: '≥ 20000',
      met: rate >= 20_000,
    },
  );
  await raw.query('ANALYZE annotations');
  await raw.query('ANALYZE current_runs');
  await raw.query('ANALYZE annotation_runs');
  const size = await raw.query<{ table: string; indexes: string }>(
    `SELECT pg_size_pretty(pg_table_size('annotations')) AS table, pg_size_pretty(pg_indexes_size('annotations')) AS indexes`,
  );
  extra.storage = size.rows[0];

  // ---- 2. latencies -----------------------------------------------------------------------------------------
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const title = () => `title-${Math.floor(r() * TITLES)}`;
  const region = () => {
    const w = 0.1 + r() * 0.4;
    const h = 0.05 + r() * 0.2;
    return { x: r() * (1 - w), y: r() * (1 - h), w, h };
  };
  const seconds = () => Math.floor(r() * 400);
  const vector = () => Array.from({ length: DIM }, () => r() * 2 - 1);
  const categories: { name: string; goalMs: number; make: () => unknown; note: string }[] = [
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
          id: { in: Array.from({ length: 20 }, () => pick(shotIds)) },
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
      note: `k = 20 nearest of a title's shots (${ASSETS * SHOTS} × ${DIM}-d), exact cosine`,
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
        near: { annotation: pick(shotIds), k: 20, minScore: 0.5 },
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
  const latencies: Record<string, { p50: number; p95: number; hits: number }> = {};
  for (const c of categories) {
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < QUERIES + 10; i++) {
      const q = c.make();
      const start = performance.now();
      const res = await store.search(q);
      const ms = performance.now() - start;
      if (i >= 10) times.push(ms); // the first calls warm caches and the pool
      hits += res.hits.length + (res.groups?.length ?? 0);
    }
    const p50 = percentile(times, 50);
    const p95 = percentile(times, 95);
    latencies[c.name] = { p50: round(p50, 2), p95: round(p95, 2), hits: round(hits / (QUERIES + 10), 1) };
    figures.push(
      { metric: `${c.name} p50`, value: round(p50, 2), unit: 'ms', note: c.note },
      {
        metric: `${c.name} p95`,
        value: round(p95, 2),
        unit: 'ms',
        goal: `≤ ${c.goalMs}`,
        met: p95 <= c.goalMs,
      },
    );
  }
  extra.latencies = latencies;

  // ---- 3. temporal overlap: GiST index vs sequential scan ------------------------------------------------
  const indexed: number[] = [];
  const scanned: number[] = [];
  let plan = '';
  for (let i = 0; i < SCAN_ROUNDS; i++) {
    const s = seconds();
    const q: SearchQuery = parseQuery({
      where: { temporal: { unit: 'seconds', overlaps: { start: s, end: s + 1 } } },
      sort: ['start'],
      limit: 1000,
    });
    const { text, values } = store.compile(q);
    const counts: number[] = [];
    for (const naive of i % 2 ? [true, false] : [false, true]) {
      await raw.query('BEGIN');
      if (naive) await raw.query('SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off');
      if (i === 0 && !naive) {
        const explain = await raw.query(`EXPLAIN ${text}`, values);
        plan = explain.rows.map((row) => row['QUERY PLAN']).join('\n');
      }
      const start = performance.now();
      const res = await raw.query(text, values);
      const ms = performance.now() - start;
      await raw.query('COMMIT');
      (naive ? scanned : indexed).push(ms);
      counts.push(res.rowCount ?? 0);
    }
    if (counts[0] !== counts[1]) throw new Error(`index and scan disagree: ${counts.join(' vs ')} rows`);
  }
  const mi = median(indexed);
  const ms = median(scanned);
  figures.push(
    {
      metric: 'temporal overlap, GiST index, median',
      value: round(mi, 2),
      unit: 'ms',
      note: '1 s window, all titles',
    },
    { metric: 'temporal overlap, sequential scan, median', value: round(ms, 2), unit: 'ms' },
    {
      metric: 'temporal overlap: scan / index',
      value: round(ms / mi, 1),
      unit: '×',
      goal: '> 1',
      met: ms > mi,
    },
  );
  extra.temporalPlan = plan;
} finally {
  await raw.end();
  await store.close();
  await stack.stop();
}

report('search', figures, extra);

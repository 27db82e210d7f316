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
import { rng } from '../lib/search/synthetic.ts';
import { resolveDatabaseUrl } from '../lib/stack/endpoints.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';
import { type Figure, median, percentile, report, round } from './lib/report.ts';
import { loadSynthetic, searchQueryKinds } from './lib/search-workload.ts';

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
  const load = await loadSynthetic(
    store,
    { seed: 42, titles: TITLES, assetsPerTitle: ASSETS, shotsPerAsset: SHOTS, dim: DIM, fps: FPS },
    WRITERS,
  );
  const { shotIds, runs, annotations: loaded, seconds: loadS } = load;
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
  const seconds = () => Math.floor(r() * 400);
  const categories = searchQueryKinds(r, {
    titles: TITLES,
    shotsPerTitle: ASSETS * SHOTS,
    dim: DIM,
    shotIds,
  });
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

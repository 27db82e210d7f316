// SearchService under load, on a fresh embedded stack with a real api process: synthetic annotations loaded
// through AnnotationStore.writeRun (default 20 titles × 10 assets × 225 shots, ≈ 200k annotations), then 100
// concurrent gRPC clients (each on its own channel) issuing mixed queries (filter, temporal, spatial, IoU,
// vector+filter, near an annotation, grouped) drawn at random per call: calls/s, p50 / p95 (overall and per
// kind), errors (goal 0). Peer in the same run: ListSchemas, a no-op RPC, as the transport's floor. Afterwards a
// sample of queries is checked: the same hits over gRPC as from the store directly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromSearchResponse, SearchApi } from '../lib/api/grpc/search-client.ts';
import { AnnotationStore } from '../lib/search/index.ts';
import { rng } from '../lib/search/synthetic.ts';
import { resolveDatabaseUrl } from '../lib/stack/endpoints.ts';
import { freePort, waitFor } from '../lib/stack/processes.ts';
import { API_TOKEN } from '../test/support/api.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';
import { TestWorkers } from '../test/support/harness.ts';
import { type Figure, median, percentile, report, round } from './lib/report.ts';
import { loadSynthetic, searchQueryKinds } from './lib/search-workload.ts';

const n = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TITLES = n('BENCH_SEARCH_GRPC_TITLES', 20);
const ASSETS = n('BENCH_SEARCH_GRPC_ASSETS', 10);
const SHOTS = n('BENCH_SEARCH_GRPC_SHOTS', 225);
const DIM = n('BENCH_SEARCH_GRPC_DIM', 64);
const CLIENTS = n('BENCH_SEARCH_GRPC_CLIENTS', 100);
const CALLS_PER_CLIENT = n('BENCH_SEARCH_GRPC_CALLS', 20);
const FPS = 24;

const stack = await startEphemeralStack('bench-search-grpc');
// The api's store has the default pool (10): the in-process peer gets the same.
const store = AnnotationStore.connect(resolveDatabaseUrl(stack.config), { poolSize: 10 });
const workers = new TestWorkers('benchsearchgrpc', { ...stack.env, MEDIAMESH_LOG_LEVEL: 'warn' });
const figures: Figure[] = [];
const extra: Record<string, unknown> = {
  titles: TITLES,
  assetsPerTitle: ASSETS,
  shotsPerAsset: SHOTS,
  dim: DIM,
  clients: CLIENTS,
  callsPerClient: CALLS_PER_CLIENT,
  loadAverageAtStart: os.loadavg().map((x) => round(x, 1)),
};
const clients: SearchApi[] = [];

try {
  // ---- load ---------------------------------------------------------------------------------------------------
  const load = await loadSynthetic(
    store,
    { seed: 42, titles: TITLES, assetsPerTitle: ASSETS, shotsPerAsset: SHOTS, dim: DIM, fps: FPS },
    3,
  );
  const { shotIds, annotations: loaded, seconds: loadS } = load;
  await store.pool.query('ANALYZE annotations; ANALYZE current_runs; ANALYZE annotation_runs');
  figures.push({
    metric: 'annotations loaded',
    value: loaded,
    unit: 'annotations',
    note: `${Math.round(loaded / loadS)}/s`,
  });

  // ---- the api process ------------------------------------------------------------------------------------------
  const grpcPort = await freePort();
  workers.start('api', {
    MEDIAMESH_GRPC_PORT: String(grpcPort),
    MEDIAMESH_API_PORT: String(await freePort()),
    MEDIAMESH_API_TOKENS: API_TOKEN,
    MEDIAMESH_MEDIA_ROOTS: fs.mkdtempSync(path.join(os.tmpdir(), 'mm-bench-search-grpc-')),
  });
  const address = `127.0.0.1:${grpcPort}`;
  const probe = new SearchApi(address, API_TOKEN);
  await waitFor('the gRPC api', async () => {
    await probe.listSchemas(1000);
    return true;
  });
  probe.close();

  // ---- mixed queries --------------------------------------------------------------------------------------------
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  // The in-process benchmark's mix (bench/search.ts) but the two id-list / per-entity kinds.
  const kinds = searchQueryKinds(r, {
    titles: TITLES,
    shotsPerTitle: ASSETS * SHOTS,
    dim: DIM,
    shotIds,
  }).filter((k) => k.name !== 'filter (entities)' && k.name !== 'grouped (entity)');

  for (let i = 0; i < CLIENTS; i++) clients.push(new SearchApi(address, API_TOKEN));
  const measure = async (
    label: string,
    next: () => { kind: string; call: (c: SearchApi) => Promise<unknown> },
    calls = CALLS_PER_CLIENT,
  ) => {
    const times: number[] = [];
    const byKind = new Map<string, number[]>();
    let errors = 0;
    let firstError: unknown;
    const start = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let k = 0; k < calls; k++) {
          const { kind, call } = next();
          const s0 = performance.now();
          try {
            await call(c);
            const ms = performance.now() - s0;
            times.push(ms);
            const list = byKind.get(kind) ?? [];
            list.push(ms);
            byKind.set(kind, list);
          } catch (err) {
            errors++;
            firstError ??= err;
          }
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    if (firstError) console.error(label, firstError);
    return { rate: (CLIENTS * calls) / seconds, times, byKind, errors };
  };

  const mixedCall = () => {
    const kind = pick(kinds);
    const q = kind.make();
    return { kind: kind.name, call: (c: SearchApi) => c.search(q, 60_000) };
  };
  // Warm-up: every channel connected, the api's pool filled.
  await measure('warm-up', () => ({ kind: 'noop', call: (c) => c.listSchemas() }), 2);
  await measure('warm-up', mixedCall, 2);
  const noop = await measure('ListSchemas', () => ({ kind: 'noop', call: (c) => c.listSchemas() }));
  const mixed = await measure('Search', mixedCall);

  figures.push(
    {
      metric: `Search, ${CLIENTS} clients, mixed queries`,
      value: round(mixed.rate),
      unit: 'calls/s',
      note: `${CLIENTS * CALLS_PER_CLIENT} calls`,
    },
    { metric: 'Search latency p50', value: round(median(mixed.times), 1), unit: 'ms' },
    { metric: 'Search latency p95', value: round(percentile(mixed.times, 95), 1), unit: 'ms' },
    { metric: 'Search errors', value: mixed.errors, unit: 'calls', goal: '0', met: mixed.errors === 0 },
    { metric: `peer: ListSchemas (no-op RPC), ${CLIENTS} clients`, value: round(noop.rate), unit: 'calls/s' },
    { metric: 'peer: ListSchemas latency p50', value: round(median(noop.times), 1), unit: 'ms' },
  );
  // Peer: the same mixed stream through store.search in this process, as many callers as the api has connections
  // (10): what Postgres and the executor allow here, without gRPC, the api process or its 100 channels.
  const stream = Array.from({ length: CLIENTS * CALLS_PER_CLIENT }, () => pick(kinds).make());
  const peerTimes: number[] = [];
  let peerNext = 0;
  const peerStart = performance.now();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (peerNext < stream.length) {
        const q = stream[peerNext++]!;
        const s0 = performance.now();
        await store.search(q);
        peerTimes.push(performance.now() - s0);
      }
    }),
  );
  const peerRate = stream.length / ((performance.now() - peerStart) / 1000);
  figures.push(
    {
      metric: 'peer: store.search in process, 10 callers, same mix',
      value: round(peerRate),
      unit: 'calls/s',
    },
    { metric: 'peer: store.search latency p50', value: round(median(peerTimes), 1), unit: 'ms' },
    {
      metric: 'Search over gRPC / store.search in process',
      value: round(mixed.rate / peerRate, 2),
      unit: 'ratio',
    },
  );
  const perKind: Record<string, { calls: number; p50: number; p95: number }> = {};
  for (const k of kinds) {
    const t = mixed.byKind.get(k.name) ?? [];
    perKind[k.name] = { calls: t.length, p50: round(median(t), 1), p95: round(percentile(t, 95), 1) };
    figures.push({
      metric: `  ${k.name} p50 / p95`,
      value: round(median(t), 1),
      unit: 'ms',
      note: `p95 ${round(percentile(t, 95), 1)} ms, ${t.length} calls`,
    });
  }
  extra.perKind = perKind;

  // ---- spot check: the same answers over gRPC as from the store -------------------------------------------------
  let checked = 0;
  for (let i = 0; i < 4; i++)
    for (const k of kinds) {
      const q = k.make();
      const { tookMs: _, ...overGrpc } = fromSearchResponse(await clients[0]!.search(q));
      const direct = await store.search(q);
      if (!sameUpToKeyOrder(overGrpc, direct))
        throw new Error(`gRPC and the store disagree on ${JSON.stringify(q)}`);
      checked++;
    }
  figures.push({
    metric: 'spot check: gRPC answers = store answers',
    value: checked,
    unit: 'queries',
    goal: 'all',
    met: true,
  });
} finally {
  for (const c of clients) c.close();
  await workers.stopAll();
  await store.close();
  await stack.stop();
}

function sameUpToKeyOrder(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

extra.loadAverageAtEnd = os.loadavg().map((x) => round(x, 1));
report('search-grpc', figures, extra);

// Foundation benchmarks on a fresh embedded stack (real Postgres, real Temporal dev server, real workers):
//  1. orchestration overhead per feature with a trivial compute, against the same compute + store called directly;
//  2. memo-hit re-run of a 5-feature mesh (goal ≤ 1 s end to end, 0 compute activities);
//  3. 200 entity triggers of a 3-feature mesh (features/s, 0 errors).
import os from 'node:os';
import { runFeature } from '../lib/features/client.ts';
import { normalizeParams } from '../lib/features/params.ts';
import { FsObjectStore } from '../lib/objects/store.ts';
import { insertValue } from '../lib/store/values.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';
import { meshA } from '../test/support/features.ts';
import { randomEntityKey, TestWorkers } from '../test/support/harness.ts';
import { type Figure, median, percentile, report, round } from './lib/report.ts';

const MESH5 = ['t-mesh-a', 't-mesh-b', 't-mesh-c', 't-mesh-d', 't-mesh-e'];
const MESH3 = ['t-mesh-a', 't-mesh-b', 't-mesh-c'];
const n = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const stack = await startEphemeralStack('bench');
const workers = new TestWorkers('bench', { ...stack.env, MEDIAMESH_LOG_LEVEL: 'warn' });
await workers.startAll();
const s = await workers.session();
const run = (feature: string, entityKey: string) =>
  runFeature(s.client, s.config, s.registry, { feature, entityKey });
const figures: Figure[] = [];

try {
  // Warm-up: first workflow tasks load the bundle, first activities open DB pools.
  await Promise.all(MESH5.map((f) => run(f, randomEntityKey())));

  // 1. Orchestration overhead: one trivial feature per new entity, sequentially.
  const overheadRuns = n('BENCH_OVERHEAD_RUNS', 40);
  const e2e: number[] = [];
  const computeMs: number[] = [];
  for (let i = 0; i < overheadRuns; i++) {
    const key = randomEntityKey();
    const t0 = performance.now();
    const ref = await run('t-mesh-a', key);
    e2e.push(performance.now() - t0);
    const row = await s.db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } });
    computeMs.push(row.computeMs);
  }
  // The peer: the same compute and the same insert, called in-process with no orchestration at all.
  const objects = new FsObjectStore(`${s.config.dataDir}/objects`);
  const direct: number[] = [];
  for (let i = 0; i < overheadRuns; i++) {
    const key = randomEntityKey();
    const t0 = performance.now();
    const startedAt = new Date();
    const value = await meshA.compute({
      entityKey: key,
      titleId: undefined,
      params: {},
      inputs: {},
      heartbeat() {},
      signal: new AbortController().signal,
      log: s.log,
      objects,
      tools: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
      assetPath: async () => '',
      attempt: 1,
    });
    await insertValue(s.db, {
      feature: 't-mesh-a',
      version: 1,
      entityKey: key,
      paramsHash: normalizeParams(meshA, {}).paramsHash,
      attempt: 0,
      titleId: undefined,
      value,
      object: undefined,
      codeHash: meshA.codeHash,
      workflowId: 'direct',
      runId: 'direct',
      worker: os.hostname(),
      startedAt,
      finishedAt: new Date(),
      inputs: [],
      sinks: [],
    });
    direct.push(performance.now() - t0);
  }
  const overhead = e2e.map((t, i) => t - computeMs[i]!);
  figures.push(
    { metric: 'one feature end to end, median', value: round(median(e2e)), unit: 'ms' },
    { metric: 'one feature end to end, p95', value: round(percentile(e2e, 95)), unit: 'ms' },
    {
      metric: 'orchestration overhead per feature, median',
      value: round(median(overhead)),
      unit: 'ms',
      note: 'end to end minus compute',
    },
    {
      metric: 'peer: same compute + store called directly, median',
      value: round(median(direct), 2),
      unit: 'ms',
    },
    { metric: 'end to end / direct call', value: round(median(e2e) / median(direct)), unit: 'x' },
  );

  // 2. Memo-hit re-run of a 5-feature mesh.
  const memoRuns = n('BENCH_MEMO_RUNS', 20);
  const rerun: number[] = [];
  const computesBefore = MESH5.reduce((sum, f) => sum + workers.executions(f).length, 0);
  const keys = Array.from({ length: memoRuns }, randomEntityKey);
  for (const key of keys) await Promise.all(MESH5.map((f) => run(f, key)));
  const computesAfterFirst = MESH5.reduce((sum, f) => sum + workers.executions(f).length, 0);
  let misses = 0;
  for (const key of keys) {
    const t0 = performance.now();
    const refs = await Promise.all(MESH5.map((f) => run(f, key)));
    rerun.push(performance.now() - t0);
    misses += refs.filter((r) => !r.memoHit).length;
  }
  const rerunComputes = MESH5.reduce((sum, f) => sum + workers.executions(f).length, 0) - computesAfterFirst;
  figures.push(
    {
      metric: '5-feature mesh first run computes',
      value: computesAfterFirst - computesBefore,
      unit: 'activities',
      note: `${memoRuns} entities × 5`,
    },
    {
      metric: '5-feature mesh memo re-run, median',
      value: round(median(rerun)),
      unit: 'ms',
      goal: '≤ 1000',
      met: median(rerun) <= 1000,
    },
    {
      metric: '5-feature mesh memo re-run, max',
      value: round(Math.max(...rerun)),
      unit: 'ms',
      goal: '≤ 1000',
      met: Math.max(...rerun) <= 1000,
    },
    {
      metric: 'compute activities during re-runs',
      value: rerunComputes + misses,
      unit: 'activities',
      goal: '0',
      met: rerunComputes + misses === 0,
    },
  );

  // 3. 200 entity triggers of a 3-feature mesh, all at once.
  const entities = n('BENCH_TRIGGER_ENTITIES', 200);
  const triggerKeys = Array.from({ length: entities }, randomEntityKey);
  const t0 = performance.now();
  const results = await Promise.allSettled(triggerKeys.flatMap((key) => MESH3.map((f) => run(f, key))));
  const seconds = (performance.now() - t0) / 1000;
  const errors = results.filter((r) => r.status === 'rejected');
  const stored = await s.db.featureValue.count({ where: { entityKey: { in: triggerKeys } } });
  figures.push(
    { metric: `${entities} triggers × 3-feature mesh, wall time`, value: round(seconds, 2), unit: 's' },
    { metric: 'features computed per second', value: round(stored / seconds), unit: 'features/s' },
    {
      metric: 'values stored',
      value: stored,
      unit: 'values',
      goal: `${entities * 3}`,
      met: stored === entities * 3,
    },
    { metric: 'errors', value: errors.length, unit: 'requests', goal: '0', met: errors.length === 0 },
  );
  if (errors.length) console.error((errors[0] as PromiseRejectedResult).reason);
} finally {
  await s.close();
  await workers.stopAll();
  await stack.stop();
}
report('foundation', figures, {
  workers: 'one orchestrator, one cpu, one gpu worker process; dev server on SQLite',
});

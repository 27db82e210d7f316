// Triggering benchmarks on a fresh embedded stack with real workers, a real api process and a real watcher:
//  1. landing-to-first-feature latency: a file renamed into the inbox → its first feature value stored;
//  2. Trigger RPC throughput with 50 concurrent clients (0 errors), next to a no-op RPC (ListFeatures) as the
//     floor of what the transport allows on this machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TriggerApi } from '../lib/api/grpc/client.ts';
import { waitFor } from '../lib/stack/processes.ts';
import { API_TOKEN, randomFile, startTestApi } from '../test/support/api.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';
import { TestWorkers } from '../test/support/harness.ts';
import { type Figure, median, percentile, report, round } from './lib/report.ts';

const n = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LANDINGS = n('BENCH_LANDINGS', 20);
const CLIENTS = n('BENCH_CLIENTS', 50);
const CALLS_PER_CLIENT = n('BENCH_CALLS_PER_CLIENT', 10);
const STABILITY_MS = n('BENCH_STABILITY_MS', 500);

const stack = await startEphemeralStack('bench-trigger');
const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-bench-inbox-'));
const workers = new TestWorkers('benchtrig', {
  ...stack.env,
  MEDIAMESH_LOG_LEVEL: 'warn',
  MEDIAMESH_PRODUCTIZED_FEATURES: 't-mesh-b,t-mesh-c',
  MEDIAMESH_INBOX_DIRS: inbox,
  MEDIAMESH_WATCH_STABILITY_MS: String(STABILITY_MS),
});
await workers.startAll();
workers.start('watcher');
const t = await startTestApi(workers);
const s = await workers.session();
const figures: Figure[] = [];

try {
  // 1. Landing → first feature value.
  const latencies: number[] = [];
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-bench-staging-'));
  for (let i = 0; i < LANDINGS + 1; i++) {
    const bytes = crypto.randomBytes(64 * 1024);
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    const staged = path.join(staging, `clip${i}.mov`);
    fs.writeFileSync(staged, bytes);
    fs.mkdirSync(path.join(inbox, 'latency'), { recursive: true });
    const landedAt = Date.now();
    fs.renameSync(staged, path.join(inbox, 'latency', `clip${i}.mov`));
    const first = await waitFor(
      'the first feature value',
      async () =>
        (await s.db.featureValue.findFirst({ where: { entityKey: hash }, orderBy: { createdAt: 'asc' } })) ??
        undefined,
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    if (i > 0) latencies.push(first.createdAt.getTime() - landedAt); // the first landing warms the path up
  }
  figures.push(
    {
      metric: 'landing → first feature value, median',
      value: round(median(latencies)),
      unit: 'ms',
      note: `stability window ${STABILITY_MS} ms included`,
    },
    { metric: 'landing → first feature value, p95', value: round(percentile(latencies, 95)), unit: 'ms' },
    {
      metric: 'landing → first feature value, minus stability window, median',
      value: round(median(latencies) - STABILITY_MS),
      unit: 'ms',
    },
  );

  // 2. RPC throughput with concurrent clients, each on its own channel.
  const clients = Array.from({ length: CLIENTS }, () => new TriggerApi(t.address, API_TOKEN));
  const files = clients.map((_, c) =>
    Array.from({ length: CALLS_PER_CLIENT }, (_, k) =>
      randomFile(t.mediaRoot, `rpc/c${c}/f${k}.mov`, 16 * 1024),
    ),
  );
  const measure = async (label: string, call: (c: TriggerApi, ci: number, k: number) => Promise<unknown>) => {
    const times: number[] = [];
    let errors = 0;
    let firstError: unknown;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, ci) => {
        for (let k = 0; k < CALLS_PER_CLIENT; k++) {
          const s0 = performance.now();
          try {
            await call(c, ci, k);
            times.push(performance.now() - s0);
          } catch (err) {
            errors++;
            firstError ??= err;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    if (firstError) console.error(label, firstError);
    return {
      rate: (CLIENTS * CALLS_PER_CLIENT) / seconds,
      p50: median(times),
      p95: percentile(times, 95),
      errors,
    };
  };
  const noop = await measure('ListFeatures', (c) => c.call('ListFeatures', {}));
  const trig = await measure('Trigger', (c, ci, k) =>
    c.call('Trigger', { titleId: `rpc-${ci % 10}`, path: files[ci]![k]!, features: [] }, 60_000),
  );
  const dup = await measure('Trigger (same bytes again)', (c, ci, k) =>
    c.call('Trigger', { titleId: `rpc-${ci % 10}`, path: files[ci]![k]!, features: [] }, 60_000),
  );
  for (const c of clients) c.close();
  figures.push(
    { metric: `Trigger, ${CLIENTS} clients, new 16 KB assets`, value: round(trig.rate), unit: 'calls/s' },
    {
      metric: 'Trigger latency p50 / p95',
      value: round(trig.p50),
      unit: 'ms',
      note: `p95 ${round(trig.p95)} ms`,
    },
    { metric: 'Trigger errors', value: trig.errors, unit: 'calls', goal: '0', met: trig.errors === 0 },
    {
      metric: 'Trigger of already-landed bytes',
      value: round(dup.rate),
      unit: 'calls/s',
      note: `errors ${dup.errors}`,
    },
    {
      metric: `peer: ListFeatures (no-op RPC), ${CLIENTS} clients`,
      value: round(noop.rate),
      unit: 'calls/s',
    },
    { metric: 'Trigger / no-op RPC throughput', value: round(trig.rate / noop.rate, 3), unit: 'ratio' },
  );
  const stored = await waitFor(
    'the triggered features to finish',
    async () => {
      const pending = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          s.client.workflow
            .getHandle(`title/rpc-${i}`)
            .query<{ pending: number; running: number; done: number }>('status'),
        ),
      );
      const done = pending.reduce((sum, p) => sum + p.done, 0);
      return pending.every((p) => p.pending + p.running === 0) ? done : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 1000 },
  );
  figures.push({
    metric: 'features completed for the triggered assets',
    value: stored,
    unit: 'features',
    goal: `${CLIENTS * CALLS_PER_CLIENT * 2}`,
    met: stored === CLIENTS * CALLS_PER_CLIENT * 2,
  });
} finally {
  t.api.close();
  await s.close();
  await workers.stopAll();
  await stack.stop();
}
report('triggering', figures, { clients: CLIENTS, callsPerClient: CALLS_PER_CLIENT, landings: LANDINGS });

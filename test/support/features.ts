// Features for tests and benchmarks: trivial computes that record every execution in a counter file, so a
// test can tell exactly how many times a compute ran (including tries killed half-way).
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  type AnyFeature,
  BadInputError,
  defineFeature,
  type FeatureContext,
} from '../../lib/features/definition.ts';

function record(feature: string, ctx: FeatureContext<unknown>, event = 'compute'): void {
  const dir = process.env.MEDIAMESH_TEST_COUNTER_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(
    path.join(dir, `${feature}.log`),
    `${event} ${ctx.entityKey} ${process.pid} ${ctx.attempt}\n`,
  );
}

const numberOut = z.object({ n: z.number(), pid: z.number().int() });
const sumInputs = (ctx: FeatureContext<unknown>) =>
  Object.values(ctx.inputs).reduce((s, i) => s + (i.value as { n: number }).n, 0);

function meshFeature(name: string, dependencies: string[], taskQueue: 'cpu' | 'gpu' = 'cpu') {
  return defineFeature({
    name,
    version: 1,
    description: `test mesh node ${name}`,
    module: import.meta.url,
    entityType: 'asset',
    taskQueue,
    dependencies,
    output: numberOut,
    async compute(ctx) {
      record(name, ctx);
      return { n: 1 + sumInputs(ctx), pid: process.pid };
    },
  });
}

// A 5-feature mesh with a diamond: a → b, a → c, (b, c) → d, d → e. d runs on the gpu queue.
export const meshA = meshFeature('t-mesh-a', []);
export const meshB = meshFeature('t-mesh-b', ['t-mesh-a']);
export const meshC = meshFeature('t-mesh-c', ['t-mesh-a']);
export const meshD = meshFeature('t-mesh-d', ['t-mesh-b', 't-mesh-c'], 'gpu');
export const meshE = meshFeature('t-mesh-e', ['t-mesh-d']);

export const slow = defineFeature({
  name: 't-slow',
  version: 1,
  description: 'sleeps while heartbeating; for crash and restart tests',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  params: z.object({ ms: z.number().int().min(0).max(600_000).default(3000) }),
  heartbeatTimeoutMs: 2000,
  maxAttempts: 10,
  output: numberOut,
  async compute(ctx) {
    record('t-slow', ctx, 'start');
    const until = Date.now() + ctx.params.ms;
    while (Date.now() < until) {
      ctx.heartbeat({ leftMs: until - Date.now() });
      await sleep(200, undefined, { signal: ctx.signal });
    }
    record('t-slow', ctx, 'finish');
    return { n: ctx.params.ms, pid: process.pid };
  },
});

// Two parents of the slow feature: started together, one starts it and the other must wait for that run.
export const waitsForSlow1 = meshFeature('t-waits-1', ['t-slow']);
export const waitsForSlow2 = meshFeature('t-waits-2', ['t-slow']);

export const rejectsInput = defineFeature({
  name: 't-bad-input',
  version: 1,
  description: 'always refuses its input; must fail once, without retries',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  output: numberOut,
  async compute(ctx) {
    record('t-bad-input', ctx);
    throw new BadInputError('the frames are upside down and cannot be read');
  },
});

export const wrongOutput = defineFeature({
  name: 't-wrong-output',
  version: 1,
  description: 'returns a value that violates its own schema',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  output: numberOut,
  async compute(ctx) {
    record('t-wrong-output', ctx);
    return { n: 'not a number', pid: process.pid } as unknown as { n: number; pid: number };
  },
});

export const flaky = defineFeature({
  name: 't-flaky',
  version: 1,
  description: 'fails its first try with a transient error, then succeeds',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  output: numberOut,
  async compute(ctx) {
    record('t-flaky', ctx);
    if (ctx.attempt === 1) throw new Error('transient: connection reset by peer');
    return { n: ctx.attempt, pid: process.pid };
  },
});

const all: AnyFeature[] = [
  meshA,
  meshB,
  meshC,
  meshD,
  meshE,
  slow,
  waitsForSlow1,
  waitsForSlow2,
  rejectsInput,
  wrongOutput,
  flaky,
];
export default all;

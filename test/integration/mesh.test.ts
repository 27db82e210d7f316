import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { Session } from '../../lib/cli/context.ts';
import { runFeature, startFeature } from '../../lib/features/client.ts';
import { featureWorkflowId } from '../../lib/features/refs.ts';
import { randomEntityKey, TestWorkers } from '../support/harness.ts';

const workers = new TestWorkers('mesh');
let s: Session;

const run = (feature: string, entityKey: string, params?: Record<string, unknown>) =>
  runFeature(s.client, s.config, s.registry, { feature, entityKey, titleId: 'mesh-test', params });

async function historyEvents(workflowId: string): Promise<string[]> {
  const history = await s.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '?');
}

describe('feature mesh on a real Temporal server and real workers', () => {
  before(async () => {
    await workers.startAll();
    s = await workers.session();
  });
  after(async () => {
    await s?.close();
    await workers.stopAll();
  });

  it('computes a diamond once per feature and routes each feature to its declared queue', async () => {
    const key = randomEntityKey();
    const ref = await run('t-mesh-e', key);
    assert.equal(ref.memoHit, false);
    for (const f of ['t-mesh-a', 't-mesh-b', 't-mesh-c', 't-mesh-d', 't-mesh-e']) {
      assert.equal(workers.executions(f, key).length, 1, `${f} computed exactly once`);
    }
    // a=1, b=c=1+a=2, d=1+b+c=5, e=1+d=6
    const e = await s.db.featureValue.findUniqueOrThrow({
      where: { id: BigInt(ref.valueId) },
      include: { inputs: true },
    });
    assert.deepEqual((e.value as { n: number }).n, 6);
    assert.equal(e.inputs.length, 1, 'lineage points at d');
    const d = await s.db.featureValue.findFirstOrThrow({
      where: { entityKey: key, featureName: 't-mesh-d' },
    });
    assert.equal((d.value as { pid: number }).pid, workers.pids.gpu, 'd ran on the gpu worker');
    const a = await s.db.featureValue.findFirstOrThrow({
      where: { entityKey: key, featureName: 't-mesh-a' },
    });
    assert.equal((a.value as { pid: number }).pid, workers.pids.cpu, 'a ran on the cpu worker');
    assert.equal(d.workflowId, featureWorkflowId('t-mesh-d', 1, key));
  });

  it('a memo hit returns the stored reference and schedules no compute activity', async () => {
    const key = randomEntityKey();
    const first = await run('t-mesh-e', key);
    const second = await run('t-mesh-e', key);
    assert.equal(second.memoHit, true);
    assert.equal(second.valueId, first.valueId);
    assert.equal(workers.executions('t-mesh-e', key).length, 1);
    const events = await historyEvents(featureWorkflowId('t-mesh-e', 1, key));
    assert.ok(
      !events.includes('activityTaskScheduledEventAttributes'),
      `no activity scheduled: ${events.join(', ')}`,
    );
    assert.ok(!events.includes('startChildWorkflowExecutionInitiatedEventAttributes'), 'no child started');
  });

  it('50 concurrent identical requests compute each feature exactly once', async () => {
    const key = randomEntityKey();
    const refs = await Promise.all(Array.from({ length: 50 }, () => run('t-mesh-e', key)));
    assert.equal(new Set(refs.map((r) => r.valueId)).size, 1);
    for (const f of ['t-mesh-a', 't-mesh-b', 't-mesh-c', 't-mesh-d', 't-mesh-e']) {
      assert.equal(workers.executions(f, key).length, 1, `${f} computed exactly once`);
      const count = await s.db.featureValue.count({ where: { entityKey: key, featureName: f } });
      assert.equal(count, 1, `${f} stored once`);
    }
  });

  it('concurrent parents sharing a dependency compute it once', async () => {
    const key = randomEntityKey();
    const [b, c] = await Promise.all([run('t-mesh-b', key), run('t-mesh-c', key)]);
    assert.equal(b.memoHit, false);
    assert.equal(c.memoHit, false);
    assert.equal(workers.executions('t-mesh-a', key).length, 1);
    const d = await run('t-mesh-d', key);
    assert.equal(d.memoHit, false);
    assert.equal(workers.executions('t-mesh-b', key).length, 1, 'b reused by d');
  });

  it('a parent whose dependency another parent is computing waits for that run instead of starting it again', async () => {
    const key = randomEntityKey();
    const [one, two] = await Promise.all([run('t-waits-1', key), run('t-waits-2', key)]);
    assert.equal(one.memoHit, false);
    assert.equal(two.memoHit, false);
    assert.equal(workers.executions('t-slow', key, 'start').length, 1, 't-slow started once');
    const histories = await Promise.all([
      historyEvents(featureWorkflowId('t-waits-1', 1, key)),
      historyEvents(featureWorkflowId('t-waits-2', 1, key)),
    ]);
    const children = histories.map(
      (h) => h.filter((e) => e === 'childWorkflowExecutionStartedEventAttributes').length,
    );
    assert.deepEqual(children.sort(), [0, 1], 'exactly one parent started the shared child');
  });

  it('bad input fails once, without retries, with the feature’s own message', async () => {
    const key = randomEntityKey();
    await assert.rejects(run('t-bad-input', key), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const chain =
        JSON.stringify(err, Object.getOwnPropertyNames(err)) + String((err.cause as Error)?.cause);
      assert.match(chain, /upside down/);
      return true;
    });
    assert.equal(workers.executions('t-bad-input', key).length, 1, 'not retried');
    assert.equal(await s.db.featureValue.count({ where: { entityKey: key } }), 0, 'nothing stored');
  });

  it('an output that violates the declared schema is refused and not stored', async () => {
    const key = randomEntityKey();
    await assert.rejects(run('t-wrong-output', key), WorkflowFailedError);
    assert.equal(workers.executions('t-wrong-output', key).length, 1);
    assert.equal(await s.db.featureValue.count({ where: { entityKey: key } }), 0);
  });

  it('a transient failure is retried and the value stored once', async () => {
    const key = randomEntityKey();
    const ref = await run('t-flaky', key);
    assert.equal(workers.executions('t-flaky', key).length, 2);
    const row = await s.db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } });
    assert.equal((row.value as { n: number }).n, 2);
  });

  it('params are validated, part of the memo key, and of the workflow id when not the defaults', async () => {
    const key = randomEntityKey();
    await assert.rejects(run('t-slow', key, { ms: -5 }), /invalid params for feature t-slow: ms/);
    const a = await run('t-slow', key, { ms: 10 });
    const b = await run('t-slow', key, { ms: 20 });
    assert.notEqual(a.paramsHash, b.paramsHash);
    assert.notEqual(a.valueId, b.valueId);
    const c = await run('t-slow', key, { ms: 10 });
    assert.equal(c.valueId, a.valueId);
    assert.equal(c.memoHit, true);
  });

  it('unknown features and malformed entity keys are refused before anything starts', async () => {
    await assert.rejects(run('no-such-feature', randomEntityKey()), /unknown feature "no-such-feature"/);
    await assert.rejects(run('t-mesh-a', '../../etc/passwd'), /entity key must be a sha256 hex digest/);
  });

  it('runs carry TitleId, Feature and EntityKey search attributes and a summary for the UI', async () => {
    const key = randomEntityKey();
    await run('t-mesh-c', key);
    const handle = await startFeature(s.client, s.config, s.registry, {
      feature: 't-mesh-c',
      entityKey: key,
    });
    const desc = await handle.describe();
    assert.equal(desc.typedSearchAttributes.get({ name: 'EntityKey', type: 'KEYWORD' } as never), key);
    // Visibility is eventually consistent; the second run of c is the memo hit started just above.
    let found = new Set<string>();
    for (let i = 0; i < 40 && found.size < 2; i++) {
      found = new Set();
      for await (const wf of s.client.workflow.list({ query: `EntityKey = '${key}'` }))
        found.add(wf.workflowId);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual([...found].sort(), [
      featureWorkflowId('t-mesh-a', 1, key),
      featureWorkflowId('t-mesh-c', 1, key),
    ]);
    const meta = await handle.describe();
    assert.match((await meta.staticSummary()) ?? '', /t-mesh-c@1/);
  });
});

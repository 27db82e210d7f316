import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SyncSummary } from '../../activities/sync.ts';
import type { Session } from '../../lib/cli/context.ts';
import { runFeature } from '../../lib/features/client.ts';
import { ingestFile } from '../../lib/media/ingest.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { openVectorIndex } from '../../lib/vector/open-index.ts';
import { randomEntityKey, TestWorkers } from '../support/harness.ts';
import { storeUnsyncedValue } from '../support/stored-values.ts';

const vectorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-vectors-'));
const workers = new TestWorkers('replication', { MEDIAMESH_VECTOR_DIR: vectorDir });
const clip = new URL('../fixtures/media/pyscenedetect/counter.mp4', import.meta.url).pathname;
let s: Session;

describe('replication through the outbox (real workers, embedded vector index)', () => {
  before(async () => {
    await workers.startAll();
    s = await workers.session();
  });
  after(async () => {
    await s?.close();
    await workers.stopAll();
  });

  it('a value with a vectors sink reaches the index when it is stored, and its outbox row is delivered', async () => {
    const objects = new FsObjectStore(path.join(workers.config.dataDir, 'objects'));
    const asset = await ingestFile(s.db, objects, clip, 'replication');
    const ref = await runFeature(s.client, s.config, s.registry, {
      feature: 'frame-signature',
      entityKey: asset.hash,
      titleId: 'replication',
    });
    const outbox = await s.db.outboxEvent.findMany({ where: { valueId: BigInt(ref.valueId) } });
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]!.sink, 'vectors');
    assert.ok(outbox[0]!.deliveredAt, 'delivered right after the value was stored');
    const value = (await s.db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } }))
      .value as {
      vector: number[];
    };
    const index = await openVectorIndex(workers.config);
    try {
      const hits = await index.query({ feature: 'frame-signature', version: 1, vector: value.vector, k: 1 });
      assert.equal(hits[0]?.entityKey, asset.hash);
      assert.ok(hits[0]!.score > 0.999);
    } finally {
      await index.close();
    }
  });

  it('the sweep workflow delivers what is left and is idempotent', async () => {
    const run = () =>
      s.client.workflow.execute<(i: { syncQueue: string }) => Promise<SyncSummary>>('outboxSweepWorkflow', {
        workflowId: `sweep-${Date.now()}`,
        taskQueue: workers.config.queues.orchestrator,
        args: [{ syncQueue: workers.config.queues.cpu }],
      });
    // A value stored while no sync ran (as if the vector index had been down): its row waits in the outbox.
    const key = randomEntityKey();
    const vector = Array.from({ length: 144 }, (_, i) => Math.sin(i + 1) / 8.5);
    const ref = await storeUnsyncedValue(s, {
      feature: 'frame-signature',
      entityKey: key,
      titleId: 'replication',
      value: { frames: 8, vector, meanLuma: 100 },
      sinks: ['vectors'],
    });
    const first = await run();
    assert.equal(first.failed, 0);
    assert.ok(first.delivered >= 1);
    const row = await s.db.outboxEvent.findFirstOrThrow({ where: { valueId: BigInt(ref.valueId) } });
    assert.ok(row.deliveredAt);
    const second = await run();
    assert.equal(second.claimed, 0, 'nothing left to deliver');
    const pending = await s.db.outboxEvent.count({ where: { sink: 'vectors', deliveredAt: null } });
    assert.equal(pending, 0);
  });
});

// The vectors outbox against real Postgres: values whose feature sinks to 'vectors' reach the embedded index
// once, failures are recorded and retried, and two syncers in two processes never deliver a row twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/config/config.ts';
import { FsObjectStore, type ObjectRef } from '../../lib/objects/store.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';
import { createDb, type Db } from '../../lib/store/db.ts';
import { insertValue } from '../../lib/store/values.ts';
import { LanceVectorIndex } from '../../lib/vector/lance-index.ts';
import { createVectorMatrix } from '../../lib/vector/matrix.ts';
import { writeVectorMatrix } from '../../lib/vector/matrix-file.ts';
import { syncVectorOutbox } from '../../lib/vector/outbox-sync.ts';
import { randomEntityKey } from '../support/harness.ts';

const config = loadConfig();
const databaseUrl = resolveDatabaseUrl(config);
const DIM = 8;
let db: Db;
let dir: string;
let objects: FsObjectStore;
let index: LanceVectorIndex;

function matrix(rows: number, seed: number) {
  const data = Float32Array.from({ length: rows * DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) + 0.01);
  const shots = Array.from({ length: rows }, (_, r) => ({ shot: r, start: r * 24, end: r * 24 + 24 }));
  return createVectorMatrix({ dim: DIM, rows: data, shots });
}

async function storeValue(feature: string, value: unknown, titleId = 'outbox-title') {
  const now = new Date();
  const { ref } = await insertValue(db, {
    feature,
    version: 1,
    entityKey: randomEntityKey(),
    paramsHash: 'p0',
    attempt: 0,
    titleId,
    value,
    object: (value as { object?: ObjectRef }).object,
    codeHash: 'c0',
    workflowId: 'wf',
    runId: 'run',
    worker: 'test',
    startedAt: now,
    finishedAt: now,
    inputs: [],
    sinks: ['vectors'],
  });
  return ref;
}

async function outboxOf(valueId: string) {
  return db.outboxEvent.findFirstOrThrow({ where: { valueId: BigInt(valueId), sink: 'vectors' } });
}

/** Syncs until nothing is left to claim (rows of other test files included: they fail and are counted). */
async function drain(idx = index) {
  return syncVectorOutbox(db, objects, idx, { batch: 25, maxBatches: 1000 });
}

describe('vectors outbox sync (real Postgres, embedded index)', () => {
  before(async () => {
    db = createDb(databaseUrl);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-outbox-'));
    objects = new FsObjectStore(path.join(dir, 'objects'));
    index = await LanceVectorIndex.open({ dir: path.join(dir, 'vectors') });
  });
  after(async () => {
    await index.close();
    await db.$disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers matrix and inline-vector values once, with title ids, and marks the rows', async () => {
    const feature = `ob-${crypto.randomBytes(3).toString('hex')}`;
    const m = matrix(5, 1);
    const withMatrix = await storeValue(
      feature,
      { object: await writeVectorMatrix(objects, m), shots: 5 },
      'title-m',
    );
    const inline = await storeValue(`${feature}-inline`, { vector: [1, 2, 3, 4] }, 'title-i');
    await drain();
    for (const ref of [withMatrix, inline]) {
      const row = await outboxOf(ref.valueId);
      assert.ok(row.deliveredAt, `value ${ref.valueId} delivered`);
      assert.equal(row.attempts, 1);
      assert.equal(row.lastError, null);
    }
    assert.equal(await index.count({ feature, version: 1, titleIds: ['title-m'] }), 5);
    assert.equal(await index.count({ feature: `${feature}-inline`, version: 1 }), 1);
    const [hit] = await index.query({ feature, version: 1, vector: m.data.subarray(3 * DIM, 4 * DIM), k: 1 });
    assert.deepEqual([hit!.entityKey, hit!.shot, hit!.titleId], [withMatrix.entityKey, 3, 'title-m']);

    const again = await drain();
    assert.equal(again.delivered, 0, 'nothing left to deliver');
    // Re-delivering a row (e.g. a sync that died before its commit) changes nothing in the index.
    await db.outboxEvent.updateMany({
      where: { valueId: BigInt(withMatrix.valueId) },
      data: { deliveredAt: null },
    });
    await drain();
    assert.equal(await index.count({ feature, version: 1 }), 5);
    assert.equal((await outboxOf(withMatrix.valueId)).attempts, 2);
  });

  it('records failures, retries them, and stops after maxAttempts', async () => {
    const feature = `ob-${crypto.randomBytes(3).toString('hex')}`;
    // A matrix whose object is not in this store yet (it replicates later).
    const elsewhere = new FsObjectStore(path.join(dir, 'elsewhere'));
    const m = matrix(3, 2);
    const ref = await writeVectorMatrix(elsewhere, m);
    const late = await storeValue(feature, { object: ref });
    const broken = await storeValue(`${feature}-broken`, { answer: 42 });
    const first = await drain();
    assert.ok(first.errors.some((e) => e.valueId === late.valueId && /ENOENT/.test(e.message)));
    let row = await outboxOf(late.valueId);
    assert.equal(row.deliveredAt, null);
    assert.equal(row.attempts, 1);
    assert.match(row.lastError ?? '', /ENOENT/);
    assert.match(
      (await outboxOf(broken.valueId)).lastError ?? '',
      /has neither an `object` vector matrix nor a `vector`/,
    );

    await objects.putFile(await elsewhere.localPath(ref));
    await drain();
    row = await outboxOf(late.valueId);
    assert.ok(row.deliveredAt);
    assert.equal(row.attempts, 2);
    assert.equal(row.lastError, null);
    assert.equal(await index.count({ feature, version: 1 }), 3);

    for (let i = 0; i < 6; i++) await drain();
    const gaveUp = await outboxOf(broken.valueId);
    assert.equal(gaveUp.attempts, 5, 'claimed no more after maxAttempts (5)');
    assert.equal(gaveUp.deliveredAt, null);
  });

  it('two syncers in two processes deliver every row exactly once', async () => {
    const feature = `ob-${crypto.randomBytes(3).toString('hex')}`;
    const refs = [];
    for (let i = 0; i < 40; i++) {
      refs.push(
        await storeValue(
          feature,
          { object: await writeVectorMatrix(objects, matrix(4, 100 + i)) },
          `t${i % 5}`,
        ),
      );
    }
    const child = path.join(dir, 'sync-child.mts');
    const lib = (p: string) => JSON.stringify(fileURLToPath(new URL(`../../lib/${p}`, import.meta.url)));
    fs.writeFileSync(
      child,
      `import { syncVectorOutbox } from ${lib('vector/outbox-sync.ts')};
import { createDb } from ${lib('store/db.ts')};
import { FsObjectStore } from ${lib('objects/store.ts')};
import { LanceVectorIndex } from ${lib('vector/lance-index.ts')};
const [url, objectsDir, vectorsDir] = process.argv.slice(2);
const db = createDb(url);
const index = await LanceVectorIndex.open({ dir: vectorsDir });
process.stdout.write('ready\\n');
const r = await syncVectorOutbox(db, new FsObjectStore(objectsDir), index, { batch: 3, maxBatches: 1000 });
process.stdout.write(JSON.stringify({ delivered: r.delivered }) + '\\n');
await index.close();
await db.$disconnect();
`,
    );
    try {
      let ready: () => void = () => {};
      const childReady = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const other = new Promise<{ delivered: number }>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ['--import', 'tsx', child, databaseUrl, path.join(dir, 'objects'), path.join(dir, 'vectors')],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        p.stdout.on('data', (d) => {
          out += d;
          if (out.startsWith('ready\n')) ready();
        });
        p.on('exit', (code) => {
          ready();
          if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)));
          else reject(new Error(`child exited ${code}`));
        });
      });
      // Start this syncer once the other process is up, so that the two really run side by side.
      await childReady;
      const here = syncVectorOutbox(db, objects, index, { batch: 3, maxBatches: 1000 });
      const [a, b] = await Promise.all([here, other]);
      process.stdout.write(`# delivered here ${a.delivered}, in the other process ${b.delivered}\n`);
      assert.equal(a.delivered + b.delivered, 40, 'every row delivered by exactly one syncer');
      const rows = await db.outboxEvent.findMany({
        where: { valueId: { in: refs.map((r) => BigInt(r.valueId)) } },
      });
      assert.equal(rows.length, 40);
      assert.ok(rows.every((r) => r.deliveredAt !== null && r.attempts === 1 && r.lastError === null));
      assert.equal(await index.count({ feature, version: 1 }), 160);
      assert.equal(await index.count({ feature, version: 1, titleIds: ['t0'] }), 32);
    } finally {
      fs.rmSync(child, { force: true });
    }
  });

  it('refuses bad options', async () => {
    await assert.rejects(syncVectorOutbox(db, objects, index, { batch: 0 }), /batch/);
  });
});

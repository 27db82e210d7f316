// The atomic run switch under concurrent readers: while new runs of 5k annotations are written (in many INSERT
// batches), every read sees exactly one complete run, the previous or the new one, never a mix or a partial set.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '../../lib/config/config.ts';
import {
  type AnnotationInput,
  AnnotationStore,
  defaultSchemaRegistry,
  type RunInput,
} from '../../lib/search/index.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';

const N = 5000;
const tag = crypto.randomBytes(4).toString('hex');
const asset = crypto.createHash('sha256').update(tag).digest('hex');
const producer = `switch-${tag}`;
let store: AnnotationStore;

const registry = defaultSchemaRegistry().register({
  name: 'switch-test',
  version: 1,
  description: 'which run wrote this, and its index in the run',
  payload: z.strictObject({ run: z.string(), i: z.number().int() }),
});

function runOf(marker: string, attempt: number): { run: RunInput; annotations: AnnotationInput[] } {
  return {
    run: {
      producer,
      producerVersion: 1,
      entity: { type: 'asset', id: asset },
      attempt,
      titleId: `switch-${tag}`,
    },
    annotations: Array.from({ length: N }, (_, i) => ({
      type: 'switch-test',
      schemaVersion: 1,
      entity: { type: 'shot', id: `${asset}#${i % 300}` },
      temporal: { start: i, end: i + 5, startSec: i / 24, endSec: (i + 5) / 24 },
      vector: [Math.cos(i), Math.sin(i), attempt + 1],
      payload: { run: marker, i },
    })),
  };
}

describe('search: atomic run switch', () => {
  before(() => {
    store = AnnotationStore.connect(resolveDatabaseUrl(loadConfig()), {
      registry,
      batchSize: 250,
      poolSize: 6,
    });
  });
  after(async () => {
    await store.close();
  });

  it('readers see the previous complete run until the new one has fully landed, then only the new one', async () => {
    const first = runOf('A', 0);
    await store.writeRun(first.run, first.annotations);

    let writing = true;
    // One list per reader: each reader's queries are sequential, so only within a reader must runs never go back
    // (two readers' results arrive in any order relative to each other's snapshots).
    const seenBy: string[][] = [[], []];
    const nearSeen: string[] = [];
    let readsDuringWrites = 0;
    const grouped = { where: { producer }, groupBy: { by: 'payload.run', top: 0 } };
    const reader = async (seen: string[]) => {
      while (writing) {
        const r = await store.search(grouped);
        const groups = (r.groups ?? []).map((g) => `${g.key}:${g.count}`);
        assert.equal(groups.length, 1, `one run visible, saw ${groups.join(', ')}`);
        assert.match(groups[0]!, new RegExp(`^[ABC]:${N}$`), 'a complete run');
        seen.push(groups[0]!.split(':')[0]!);
        readsDuringWrites++;
      }
    };
    const nearReader = async () => {
      while (writing) {
        const r = await store.search({
          where: { producer },
          near: { vector: [1, 0, 1], k: 1000 },
          limit: 1000,
        });
        assert.equal(r.hits.length, 1000);
        const runs = new Set(r.hits.map((h) => (h.payload as { run: string }).run));
        assert.equal(runs.size, 1, `near hits from one run, saw ${[...runs].join(', ')}`);
        nearSeen.push([...runs][0]!);
      }
    };
    const writer = async () => {
      try {
        for (const [marker, attempt] of [
          ['B', 1],
          ['C', 2],
        ] as const) {
          const next = runOf(marker, attempt);
          const res = await store.writeRun(next.run, next.annotations);
          assert.equal(res.current, true);
        }
      } finally {
        writing = false;
      }
    };
    await Promise.all([reader(seenBy[0]!), reader(seenBy[1]!), nearReader(), writer()]);

    assert.ok(readsDuringWrites > 10, `only ${readsDuringWrites} reads while writing`);
    // Never back to an older run once a newer one was seen.
    for (const xs of [...seenBy, nearSeen])
      for (let i = 1; i < xs.length; i++)
        assert.ok(xs[i]! >= xs[i - 1]!, `went back: ${xs[i - 1]} → ${xs[i]}`);
    const final = await store.search(grouped);
    assert.deepEqual(
      final.groups?.map((g) => [g.key, g.count]),
      [['C', N]],
    );
    const runs = await store.runs(producer, { type: 'asset', id: asset });
    assert.deepEqual(
      runs.map((r) => [r.attempt, r.count, r.publishedAt !== null]),
      [
        [0, N, true],
        [1, N, true],
        [2, N, true],
      ],
    );
    assert.equal((await store.currentRun(producer, { type: 'asset', id: asset }))?.attempt, 2);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../lib/config/config.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';
import { createDb, type Db } from '../../lib/store/db.ts';
import { insertValue, type NewValue } from '../../lib/store/values.ts';
import { randomEntityKey } from '../support/harness.ts';

const config = loadConfig();
let db: Db;
let raw: pg.Client;

function newValue(entityKey: string, overrides: Partial<NewValue> = {}): NewValue {
  const now = new Date();
  return {
    feature: 'store-test',
    version: 1,
    entityKey,
    paramsHash: 'p0',
    attempt: 0,
    titleId: undefined,
    value: { answer: 42 },
    object: undefined,
    codeHash: 'c0',
    workflowId: 'wf',
    runId: 'run',
    worker: 'test',
    startedAt: now,
    finishedAt: now,
    inputs: [],
    sinks: ['vectors'],
    ...overrides,
  };
}

describe('feature store (real Postgres)', () => {
  before(async () => {
    db = createDb(resolveDatabaseUrl(config));
    raw = new pg.Client({ connectionString: resolveDatabaseUrl(config) });
    await raw.connect();
  });
  after(async () => {
    await db.$disconnect();
    await raw.end();
  });

  it('inserts a value with lineage and outbox rows, and a second insert of the same key returns the first', async () => {
    const key = randomEntityKey();
    const input = await insertValue(db, newValue(key, { feature: 'store-test-input' }));
    const first = await insertValue(db, newValue(key, { inputs: [input.ref] }));
    assert.equal(first.created, true);
    const again = await insertValue(db, newValue(key, { value: { answer: 43 }, inputs: [input.ref] }));
    assert.equal(again.created, false);
    assert.equal(again.ref.valueId, first.ref.valueId);
    const row = await db.featureValue.findUniqueOrThrow({
      where: { id: BigInt(first.ref.valueId) },
      include: { inputs: true, outbox: true },
    });
    assert.deepEqual(row.value, { answer: 42 });
    assert.deepEqual(
      row.inputs.map((i) => i.inputValueId.toString()),
      [input.ref.valueId],
    );
    assert.deepEqual(
      row.outbox.map((o) => o.sink),
      ['vectors'],
    );
  });

  it('keeps every attempt: a recompute is a new row, the old one stays', async () => {
    const key = randomEntityKey();
    await insertValue(db, newValue(key));
    const second = await insertValue(db, newValue(key, { attempt: 1, value: { answer: 7 } }));
    assert.equal(second.created, true);
    const rows = await db.featureValue.findMany({ where: { entityKey: key }, orderBy: { attempt: 'asc' } });
    assert.deepEqual(
      rows.map((r) => r.value),
      [{ answer: 42 }, { answer: 7 }],
    );
  });

  for (const [what, sql] of [
    ['UPDATE', 'UPDATE feature_values SET value = \'{"answer": 0}\' WHERE entity_key = $1'],
    ['DELETE', 'DELETE FROM feature_values WHERE entity_key = $1'],
    ['TRUNCATE', 'TRUNCATE feature_values CASCADE'],
  ] as const) {
    it(`the database itself refuses ${what} of values`, async () => {
      const key = randomEntityKey();
      await insertValue(db, newValue(key));
      await assert.rejects(
        raw.query(sql, sql.includes('$1') ? [key] : []),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'P0001');
          assert.match(err.message, new RegExp(`feature_values is insert-only: ${what} refused`));
          return true;
        },
      );
      const { rows } = await raw.query('SELECT value FROM feature_values WHERE entity_key = $1', [key]);
      assert.deepEqual(rows, [{ value: { answer: 42 } }]);
    });
  }

  it('refuses UPDATE and DELETE of lineage rows too, also through Prisma', async () => {
    const key = randomEntityKey();
    const input = await insertValue(db, newValue(key, { feature: 'store-test-input' }));
    const v = await insertValue(db, newValue(key, { inputs: [input.ref] }));
    await assert.rejects(
      raw.query('DELETE FROM feature_value_inputs WHERE value_id = $1', [v.ref.valueId]),
      /feature_value_inputs is insert-only: DELETE refused/,
    );
    await assert.rejects(
      db.featureValue.update({ where: { id: BigInt(v.ref.valueId) }, data: { worker: 'someone else' } }),
      /insert-only: UPDATE refused/,
    );
  });
});

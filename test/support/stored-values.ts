// A feature value written straight into the store, as if a worker had stored it and died before any sink synced
// it: its outbox rows wait for the sweep. For tests of replication and of the sinks' lag.
import type { Session } from '../../lib/cli/context.ts';
import type { SinkName } from '../../lib/features/definition.ts';
import { normalizeParams } from '../../lib/features/params.ts';
import type { ValueRef } from '../../lib/features/refs.ts';
import { insertValue } from '../../lib/store/values.ts';

export async function storeUnsyncedValue(
  s: Pick<Session, 'db' | 'registry'>,
  v: { feature: string; entityKey: string; titleId: string; value: unknown; sinks: SinkName[] },
): Promise<ValueRef> {
  const f = s.registry.get(v.feature);
  if (!f) throw new Error(`unknown feature ${v.feature}`);
  const now = new Date();
  const { ref } = await insertValue(s.db, {
    feature: v.feature,
    version: f.version,
    entityKey: v.entityKey,
    paramsHash: normalizeParams(f, {}).paramsHash,
    attempt: 0,
    titleId: v.titleId,
    value: v.value,
    object: undefined,
    codeHash: 'test',
    workflowId: 'test',
    runId: 'test',
    worker: 'test',
    startedAt: now,
    finishedAt: now,
    inputs: [],
    sinks: v.sinks,
  });
  return ref;
}

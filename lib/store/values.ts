import type { AnyFeature, StoredInput } from '../features/definition.ts';
import type { ValueRef } from '../features/refs.ts';
import { type Db, Prisma } from './db.ts';
import type { FeatureValue } from './generated/client.ts';

export interface MemoKey {
  feature: string;
  version: number;
  entityKey: string;
  paramsHash: string;
}

/** The where-clause of every value stored under a memo key (all attempts). */
export function memoWhere(key: MemoKey) {
  return {
    featureName: key.feature,
    featureVersion: key.version,
    entityKey: key.entityKey,
    paramsHash: key.paramsHash,
  };
}

export function toRef(row: FeatureValue, memoHit: boolean): ValueRef {
  return {
    valueId: row.id.toString(),
    feature: row.featureName,
    version: row.featureVersion,
    entityKey: row.entityKey,
    paramsHash: row.paramsHash,
    attempt: row.attempt,
    objectUri: row.objectUri,
    memoHit,
  };
}

/** The current (newest-attempt) value for a memo key, if any. */
export async function findCurrentValue(db: Db, key: MemoKey): Promise<ValueRef | null> {
  const row = await db.featureValue.findFirst({ where: memoWhere(key), orderBy: { attempt: 'desc' } });
  return row ? toRef(row, true) : null;
}

/** The attempt number a recompute should store: one past the newest, 0 when there is none. */
export async function nextAttempt(db: Db, key: MemoKey): Promise<number> {
  const newest = await db.featureValue.findFirst({
    where: memoWhere(key),
    orderBy: { attempt: 'desc' },
    select: { attempt: true },
  });
  return newest ? newest.attempt + 1 : 0;
}

export async function loadInputs(db: Db, refs: readonly ValueRef[]): Promise<Record<string, StoredInput>> {
  if (refs.length === 0) return {};
  const rows = await db.featureValue.findMany({ where: { id: { in: refs.map((r) => BigInt(r.valueId)) } } });
  const byId = new Map(rows.map((r) => [r.id.toString(), r]));
  const out: Record<string, StoredInput> = {};
  for (const ref of refs) {
    const row = byId.get(ref.valueId);
    if (!row) throw new Error(`input value ${ref.valueId} (${ref.feature}@${ref.version}) does not exist`);
    out[ref.feature] = {
      valueId: ref.valueId,
      feature: row.featureName,
      version: row.featureVersion,
      value: row.value,
      objectUri: row.objectUri,
    };
  }
  return out;
}

export interface NewValue extends MemoKey {
  attempt: number;
  titleId: string | undefined;
  value: unknown;
  object: { uri: string; sha256: string; sizeBytes: number } | undefined;
  codeHash: string;
  workflowId: string;
  runId: string;
  worker: string;
  startedAt: Date;
  finishedAt: Date;
  inputs: readonly ValueRef[];
  sinks: AnyFeature['sinks'];
}

/**
 * Inserts a value with its lineage and outbox rows in one statement batch. Idempotent: when the memo key and
 * attempt already exist (a retried activity, a racing worker) the stored row wins and is returned.
 */
export async function insertValue(db: Db, v: NewValue): Promise<{ ref: ValueRef; created: boolean }> {
  try {
    const row = await db.featureValue.create({
      data: {
        featureName: v.feature,
        featureVersion: v.version,
        entityKey: v.entityKey,
        paramsHash: v.paramsHash,
        attempt: v.attempt,
        titleId: v.titleId ?? null,
        value: v.value === undefined ? Prisma.JsonNull : (v.value as Prisma.InputJsonValue),
        objectUri: v.object?.uri ?? null,
        objectHash: v.object?.sha256 ?? null,
        sizeBytes: v.object ? BigInt(v.object.sizeBytes) : null,
        codeHash: v.codeHash,
        workflowId: v.workflowId,
        runId: v.runId,
        worker: v.worker,
        startedAt: v.startedAt,
        finishedAt: v.finishedAt,
        computeMs: v.finishedAt.getTime() - v.startedAt.getTime(),
        inputs: { create: v.inputs.map((i) => ({ inputValueId: BigInt(i.valueId) })) },
        outbox: { create: v.sinks.map((sink) => ({ sink })) },
      },
    });
    return { ref: toRef(row, false), created: true };
  } catch (err) {
    if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')) throw err;
    const existing = await db.featureValue.findUniqueOrThrow({
      where: { memoKey: { ...memoWhere(v), attempt: v.attempt } },
    });
    return { ref: toRef(existing, true), created: false };
  }
}

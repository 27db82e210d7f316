import type { Db } from './db.ts';
import type { Prisma } from './generated/client.ts';

export interface TriggerRecord {
  source: 'cli' | 'demo' | 'api' | 'watcher' | 'bench' | 'test';
  titleId?: string | undefined;
  entityKey?: string | undefined;
  features: string[];
  detail?: Record<string, unknown> | undefined;
  workflowId?: string | undefined;
}

export async function recordTrigger(db: Db, t: TriggerRecord): Promise<bigint> {
  const row = await db.triggerEvent.create({
    data: {
      source: t.source,
      titleId: t.titleId ?? null,
      entityKey: t.entityKey ?? null,
      features: t.features,
      ...(t.detail ? { detail: t.detail as Prisma.InputJsonValue } : {}),
      workflowId: t.workflowId ?? null,
    },
  });
  return row.id;
}

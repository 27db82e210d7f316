import { Context } from '@temporalio/activity';
import type { Config } from '../lib/config/config.ts';
import type { Logger } from '../lib/config/log.ts';
import type { ObjectStore } from '../lib/objects/store.ts';
import type { Db } from '../lib/store/db.ts';
import type { SyncResult } from '../lib/vector/outbox-sync.ts';
import type { VectorIndex } from '../lib/vector/vector-index.ts';

export interface SyncSummary {
  claimed: number;
  delivered: number;
  failed: number;
  points: number;
}

/**
 * Drains the `vectors` outbox into the configured vector index. The index (a native module for the embedded
 * backend) is opened on first use and kept for the life of the worker.
 */
export function makeSyncActivities(deps: { db: Db; objects: ObjectStore; config: Config; log: Logger }) {
  let index: Promise<VectorIndex> | undefined;
  const open = () => {
    index ??= import('../lib/vector/open-index.ts').then((m) => m.openVectorIndex(deps.config));
    return index;
  };
  return {
    async syncVectorOutbox(opts: { maxBatches: number }): Promise<SyncSummary> {
      const { syncVectorOutbox } = await import('../lib/vector/outbox-sync.ts');
      const ctx = Context.current();
      const total: SyncSummary = { claimed: 0, delivered: 0, failed: 0, points: 0 };
      for (let i = 0; i < opts.maxBatches; i++) {
        const r: SyncResult = await syncVectorOutbox(deps.db, deps.objects, await open(), { batch: 50 });
        total.claimed += r.claimed;
        total.delivered += r.delivered + r.stale;
        total.failed += r.failed;
        total.points += r.points;
        for (const e of r.errors) deps.log.warn(e, 'vector outbox row failed; it stays for the next sweep');
        ctx.heartbeat(total);
        if (r.claimed === 0) break;
      }
      return total;
    },
  };
}

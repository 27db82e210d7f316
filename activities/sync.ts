import { Context } from '@temporalio/activity';
import type { AnnotationSyncResult } from '../lib/annotations/outbox-sync.ts';
import type { Config } from '../lib/config/config.ts';
import type { Logger } from '../lib/config/log.ts';
import type { ObjectStore } from '../lib/objects/store.ts';
import type { AnnotationStore } from '../lib/search/store.ts';
import type { Db } from '../lib/store/db.ts';
import type { SyncResult } from '../lib/vector/outbox-sync.ts';
import type { VectorIndex } from '../lib/vector/vector-index.ts';

export interface SyncSummary {
  claimed: number;
  delivered: number;
  failed: number;
  points: number;
}

export interface AnnotationSyncSummary {
  claimed: number;
  delivered: number;
  failed: number;
  /** Runs written, and annotations in them. */
  runs: number;
  annotations: number;
}

/**
 * Drains the replication outbox: `vectors` into the configured vector index, `annotations` into the annotation
 * store. The index (a native module for the embedded backend) and the store's connection pool are opened on
 * first use and kept for the life of the worker.
 */
export function makeSyncActivities(deps: { db: Db; objects: ObjectStore; config: Config; log: Logger }) {
  let index: Promise<VectorIndex> | undefined;
  const open = () => {
    index ??= import('../lib/vector/open-index.ts').then((m) => m.openVectorIndex(deps.config));
    return index;
  };
  let annotations:
    | Promise<{ store: AnnotationStore; producerOf: (feature: string, paramsHash: string) => string }>
    | undefined;
  const openAnnotations = () => {
    annotations ??= (async () => {
      const [{ AnnotationStore }, { resolveDatabaseUrl }, { loadRegistry }, { normalizeParams }] =
        await Promise.all([
          import('../lib/search/store.ts'),
          import('../lib/stack/endpoints.ts'),
          import('../lib/features/load.ts'),
          import('../lib/features/params.ts'),
        ]);
      const registry = await loadRegistry(deps.config);
      const store = AnnotationStore.connect(resolveDatabaseUrl(deps.config), {
        poolSize: 4,
        // Long runs (thousands of annotations) insert in batches; give each statement room.
        limits: { statementTimeoutMs: 120_000 },
      });
      // Default params → the feature's name; other params → a producer of their own.
      const producerOf = (feature: string, paramsHash: string) => {
        const f = registry.get(feature);
        if (!f || normalizeParams(f, {}).paramsHash === paramsHash) return feature;
        return `${feature}.p${paramsHash.slice(0, 16)}`;
      };
      return { store, producerOf };
    })();
    annotations.catch(() => {
      annotations = undefined;
    });
    return annotations;
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

    /**
     * Writes annotation runs for undelivered `annotations` outbox rows: with `valueId`, that value's row only
     * (right after it was stored); else up to `maxBatches` batches of the oldest rows (the sweep).
     */
    async syncAnnotationOutbox(opts: {
      maxBatches: number;
      valueId?: string;
    }): Promise<AnnotationSyncSummary> {
      const { syncAnnotationOutbox } = await import('../lib/annotations/outbox-sync.ts');
      const { store, producerOf } = await openAnnotations();
      const ctx = Context.current();
      const total: AnnotationSyncSummary = { claimed: 0, delivered: 0, failed: 0, runs: 0, annotations: 0 };
      for (let i = 0; i < opts.maxBatches; i++) {
        const r: AnnotationSyncResult = await syncAnnotationOutbox(store, {
          batch: 20,
          producerOf,
          ...(opts.valueId ? { valueId: opts.valueId } : {}),
        });
        total.claimed += r.claimed;
        total.delivered += r.delivered;
        total.failed += r.failed;
        total.runs += r.written;
        total.annotations += r.annotations;
        for (const e of r.errors)
          deps.log.warn(e, 'annotations outbox row failed; it stays for the next sweep');
        ctx.heartbeat(total);
        if (r.claimed === 0 || opts.valueId) break;
      }
      return total;
    },
  };
}

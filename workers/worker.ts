import path from 'node:path';
import { DefaultLogger, type LogLevel, Runtime, Worker } from '@temporalio/worker';
import { makeAwaitFeatureWorkflow } from '../activities/await-workflow.ts';
import { makeComputeFeature } from '../activities/compute.ts';
import { makeMatchCutActivities } from '../activities/matchcut.ts';
import { makePlanActivities } from '../activities/plan.ts';
import { makeResolveFeature } from '../activities/resolve.ts';
import { makeSyncActivities } from '../activities/sync.ts';
import { type Config, loadConfig } from '../lib/config/config.ts';
import { createLogger, type Logger } from '../lib/config/log.ts';
import { loadRegistry } from '../lib/features/load.ts';
import { findMediaTools } from '../lib/media/tools.ts';
import { FsObjectStore } from '../lib/objects/store.ts';
import { resolveEndpoints } from '../lib/stack/endpoints.ts';
import { createDb } from '../lib/store/db.ts';
import { recordDefinitions } from '../lib/store/definitions.ts';
import { connectClient, connectWorker } from '../lib/temporal/connection.ts';
import { ensureOutboxSchedule } from '../lib/temporal/outbox-schedule.ts';
import { customSearchAttributes } from '../lib/temporal/search-attributes.ts';
import { ensureSearchAttributes } from '../lib/temporal/task-queues.ts';
import { workflowBundle } from '../lib/temporal/workflow-bundle.ts';

export type WorkerKind = 'orchestrator' | 'cpu' | 'gpu';

function installRuntimeLogger(log: Logger): void {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => log[levels[level]](meta ?? {}, message)),
  });
}

/**
 * One worker process for one task queue. Orchestrator: workflows plus the memo look-up and await activities.
 * cpu / gpu: the compute activity for the features declared on that queue.
 */
export async function runWorker(kind: WorkerKind, config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, `worker-${kind}`, true);
  installRuntimeLogger(log);
  const endpoints = resolveEndpoints(config);
  const registry = await loadRegistry(config);
  const db = createDb(endpoints.databaseUrl, {
    poolSize: kind === 'orchestrator' ? 10 : config.concurrency[kind] + 2,
  });
  const connection = await connectWorker(config, endpoints.temporalAddress);
  const taskQueue = config.queues[kind];
  const common = {
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    shutdownGraceTime: '10s',
  } as const;

  let worker: Worker;
  if (kind === 'orchestrator') {
    await recordDefinitions(db, registry.list(), log);
    const client = await connectClient(config, endpoints.temporalAddress);
    await ensureOutboxSchedule(client, config).catch((err) =>
      log.warn(
        { err },
        'could not create the outbox sweep schedule; undelivered rows wait for the next value',
      ),
    );
    if (config.temporal.address) {
      // A cluster set up by hand may lack our search attributes; registering needs operator rights, so only warn.
      await ensureSearchAttributes(
        client,
        customSearchAttributes.map((a) => a.name),
      ).catch((err) =>
        log.warn({ err }, 'could not register the TitleId/Feature/EntityKey search attributes'),
      );
    }
    worker = await Worker.create({
      ...common,
      workflowBundle: await workflowBundle(path.join(config.dataDir, 'cache')),
      activities: {
        resolveFeature: makeResolveFeature({ db, registry, config }),
        awaitFeatureWorkflow: makeAwaitFeatureWorkflow({ client }),
        ...makePlanActivities({ registry }),
        planMatchCut: makeMatchCutActivities({ db, registry, config }).planMatchCut,
      },
      maxConcurrentWorkflowTaskExecutions: 100,
      maxConcurrentLocalActivityExecutions: 50,
      maxConcurrentActivityTaskExecutions: 500,
      maxCachedWorkflows: 2000,
    });
  } else {
    const tools = findMediaTools(config);
    const objects = new FsObjectStore(path.join(config.dataDir, 'objects'));
    if (!tools)
      log.warn(
        'ffmpeg/ffprobe not found: media features will fail (install Debian ffmpeg or set FFMPEG_PATH)',
      );
    worker = await Worker.create({
      ...common,
      activities: {
        ...makeSyncActivities({ db, objects, config, log }),
        ...(kind === 'cpu'
          ? { answerMatchCut: makeMatchCutActivities({ db, registry, config, objects }).answerMatchCut }
          : {}),
        computeFeature: makeComputeFeature({
          db,
          registry,
          objects,
          tools: tools ?? { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
          log,
        }),
      },
      maxConcurrentActivityTaskExecutions: config.concurrency[kind],
    });
  }
  log.info({ taskQueue, features: registry.list().map((f) => `${f.name}@${f.version}`) }, 'worker started');
  try {
    await worker.run();
  } finally {
    log.info('worker stopped');
    await connection.close();
    await db.$disconnect();
  }
}

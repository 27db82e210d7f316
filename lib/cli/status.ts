import path from 'node:path';
import { type Config, projectRoot } from '../config/config.ts';
import { resolveDatabaseUrl, resolveEndpoints } from '../stack/endpoints.ts';
import { isAlive } from '../stack/processes.ts';
import { PROCESS_KINDS } from '../stack/stack.ts';
import { readState } from '../stack/state.ts';
import { createDb } from '../store/db.ts';
import { connectClient } from '../temporal/connection.ts';
import { describePollers } from '../temporal/task-queues.ts';
import { table } from './table.ts';

export interface StackStatus {
  services: { name: string; state: string; detail: string }[];
  queues: { queue: string; type: string; pollers: number; identities: string[] }[];
  values: { feature: string; version: number; count: number }[];
  /**
   * Undelivered replication rows per sink (vectors, annotations), how long the oldest has waited (the sink's
   * lag) and how many of them failed at least once (last_error set; retried by the sweep up to 5 times).
   */
  outboxPending: { sink: string; count: number; lagSeconds: number; failing: number }[];
  triggers: number;
}

async function safely<T>(f: () => Promise<T>): Promise<T | Error> {
  try {
    return await f();
  } catch (err) {
    return err as Error;
  }
}

export async function collectStatus(config: Config): Promise<StackStatus> {
  const state = readState(config.dataDir);
  const services: StackStatus['services'] = [];
  const status: StackStatus = { services, queues: [], values: [], outboxPending: [], triggers: 0 };

  const db = await safely(async () => createDb(resolveDatabaseUrl(config), { poolSize: 2 }));
  const dbResult =
    db instanceof Error
      ? db
      : await safely(async () => {
          const [values, outbox, failing, triggers] = await Promise.all([
            db.featureValue.groupBy({ by: ['featureName', 'featureVersion'], _count: { _all: true } }),
            db.outboxEvent.groupBy({
              by: ['sink'],
              where: { deliveredAt: null },
              _count: { _all: true },
              _min: { createdAt: true },
            }),
            db.outboxEvent.groupBy({
              by: ['sink'],
              where: { deliveredAt: null, lastError: { not: null } },
              _count: { _all: true },
            }),
            db.triggerEvent.count(),
          ]);
          await db.$disconnect();
          return { values, outbox, failing, triggers };
        });
  const pgDetail = config.databaseUrl
    ? 'DATABASE_URL'
    : state.postgres
      ? `127.0.0.1:${state.postgres.port}`
      : '';
  services.push({
    name: 'postgres',
    state: dbResult instanceof Error ? 'down' : 'up',
    detail: dbResult instanceof Error ? `${pgDetail} ${dbResult.message.split('\n')[0]}` : pgDetail,
  });
  if (!(dbResult instanceof Error)) {
    status.values = dbResult.values
      .map((v) => ({ feature: v.featureName, version: v.featureVersion, count: v._count._all }))
      .sort((a, b) => a.feature.localeCompare(b.feature));
    status.outboxPending = dbResult.outbox.map((o) => ({
      sink: o.sink,
      count: o._count._all,
      lagSeconds: o._min.createdAt ? Math.round((Date.now() - o._min.createdAt.getTime()) / 1000) : 0,
      failing: dbResult.failing.find((f) => f.sink === o.sink)?._count._all ?? 0,
    }));
    status.triggers = dbResult.triggers;
  }

  const client = await safely(async () => connectClient(config, resolveEndpoints(config).temporalAddress));
  if (client instanceof Error) {
    services.push({ name: 'temporal', state: 'down', detail: client.message.split('\n')[0]! });
  } else {
    const ui = resolveEndpoints(config).temporalUi;
    services.push({
      name: 'temporal',
      state: 'up',
      detail: `${resolveEndpoints(config).temporalAddress}${ui ? `  UI ${ui}` : ''}`,
    });
    const queues = await safely(() =>
      Promise.all([
        describePollers(client, config.queues.orchestrator, 'workflow'),
        describePollers(client, config.queues.orchestrator, 'activity'),
        describePollers(client, config.queues.cpu, 'activity'),
        describePollers(client, config.queues.gpu, 'activity'),
      ]),
    );
    if (!(queues instanceof Error)) {
      status.queues = queues.map((q) => ({
        queue: q.queue,
        type: q.type,
        pollers: q.pollers.length,
        identities: q.pollers.map((p) => p.identity),
      }));
    }
    await client.connection.close();
  }
  for (const kind of PROCESS_KINDS) {
    const pid = state.workers[kind];
    const listening =
      kind === 'api' && state.api
        ? `gRPC 127.0.0.1:${state.api.grpcPort}, HTTP 127.0.0.1:${state.api.httpPort}, `
        : '';
    services.push({
      name: kind,
      state: pid ? (isAlive(pid) ? 'up' : 'dead') : 'not started here',
      detail: pid
        ? `${listening}pid ${pid}, log ${path.relative(projectRoot, config.dataDir)}/logs/${logName(kind)}.log`
        : '',
    });
  }
  return status;
}

const logName = (kind: string) => (['orchestrator', 'cpu', 'gpu'].includes(kind) ? `worker-${kind}` : kind);

export function renderStatus(s: StackStatus): string {
  const services = table(['service', 'state', 'detail']);
  for (const x of s.services) services.push([x.name, x.state, x.detail]);
  const queues = table(['task queue', 'type', 'pollers']);
  for (const q of s.queues) queues.push([q.queue, q.type, String(q.pollers)]);
  const values = table(['feature', 'version', 'values']);
  for (const v of s.values) values.push([v.feature, String(v.version), String(v.count)]);
  const outbox =
    s.outboxPending
      .map(
        (o) => `${o.sink}: ${o.count} (oldest ${o.lagSeconds} s${o.failing ? `, ${o.failing} failing` : ''})`,
      )
      .join(', ') || 'none';
  return [
    services.toString(),
    queues.toString(),
    values.toString(),
    `outbox rows waiting for delivery: ${outbox}`,
    `trigger events recorded: ${s.triggers}`,
  ].join('\n');
}

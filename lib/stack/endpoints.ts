import type { Config } from '../config/config.ts';
import { clusterUrl } from './postgres.ts';
import { readState } from './state.ts';

export interface Endpoints {
  databaseUrl: string;
  temporalAddress: string;
  /** Where the Temporal Web UI is, when we know. */
  temporalUi: string | undefined;
}

export class StackNotRunningError extends Error {
  override name = 'StackNotRunningError';
}

const notRunning = (config: Config, what: string) =>
  new StackNotRunningError(
    `no ${what} configured and no embedded stack in ${config.dataDir}: run \`mediamesh up\` first, or set the variable`,
  );

/** DATABASE_URL when set, else the embedded cluster recorded by `mediamesh up`. */
export function resolveDatabaseUrl(config: Config): string {
  if (config.databaseUrl) return config.databaseUrl;
  const { postgres } = readState(config.dataDir);
  if (!postgres) throw notRunning(config, 'Postgres (DATABASE_URL)');
  return clusterUrl(postgres);
}

/** TEMPORAL_ADDRESS when set, else the embedded dev server recorded by `mediamesh up`. */
export function resolveEndpoints(config: Config): Endpoints {
  const databaseUrl = resolveDatabaseUrl(config);
  if (config.temporal.address)
    return { databaseUrl, temporalAddress: config.temporal.address, temporalUi: undefined };
  const { temporal } = readState(config.dataDir);
  if (!temporal) throw notRunning(config, 'Temporal (TEMPORAL_ADDRESS)');
  return {
    databaseUrl,
    temporalAddress: `127.0.0.1:${temporal.port}`,
    temporalUi: temporal.uiPort > 0 ? `http://127.0.0.1:${temporal.uiPort}` : undefined,
  };
}

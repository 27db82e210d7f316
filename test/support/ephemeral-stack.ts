import fs from 'node:fs';
import path from 'node:path';
import { type Config, loadConfig, projectRoot } from '../../lib/config/config.ts';
import { createLogger } from '../../lib/config/log.ts';
import { down, up } from '../../lib/stack/stack.ts';

export interface EphemeralStack {
  config: Config;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * A fresh Postgres cluster and Temporal dev server (no workers) in `.mediamesh/<name>`, for the test suite and
 * the benchmarks; never touches the developer's own stack.
 */
export async function startEphemeralStack(name: string): Promise<EphemeralStack> {
  const dataDir = path.join(projectRoot, '.mediamesh', name);
  const env: NodeJS.ProcessEnv = { ...process.env, MEDIAMESH_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  const config = loadConfig(env);
  // Stop what a previous run may have left, then start from an empty dir. The file logger is created only
  // afterwards: its file is opened asynchronously and must not be removed under it.
  await down(config, createLogger({ ...config, logLevel: 'warn' }, `${name}-stack`)).catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
  const log = createLogger(config, `${name}-stack`, true);
  await up(config, log, { workers: false });
  return { config, env, stop: () => down(config, log) };
}

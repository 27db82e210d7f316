// The embedding models of shot-embedding features, by name: built-in first, then the configured models dir.
import { loadConfig } from '../config/config.ts';
import { findModel } from '../models/registry.ts';
import type { ModelRunner } from '../models/runner.ts';
import { sharedModelRunnerFor } from '../models/shared-runner.ts';

/** The model's manifest and the process's shared runner for it. */
export async function sharedModelRunner(name: string): Promise<ModelRunner> {
  return sharedModelRunnerFor(await findModel(name, loadConfig(process.env).models.dir));
}

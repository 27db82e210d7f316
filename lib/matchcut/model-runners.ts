// One open model per worker process and model: an onnxruntime session is expensive to create and safe to
// share between the activities of one process.
import { loadConfig } from '../config/config.ts';
import type { ModelManifest } from '../models/manifest.ts';
import { findModel } from '../models/registry.ts';
import { type ModelRunner, openModelRunner } from '../models/runner.ts';

const runners = new Map<string, Promise<ModelRunner>>();

/** The model's manifest (built-in first, then the configured models dir) and a shared runner for it. */
export async function sharedModelRunner(name: string): Promise<ModelRunner> {
  const config = loadConfig(process.env);
  const manifest: ModelManifest = await findModel(name, config.models.dir);
  const key = `${manifest.name}@${manifest.version}`;
  let runner = runners.get(key);
  if (!runner) {
    runner = openModelRunner(manifest, {
      executionProviders: manifest.executionProviders ?? config.models.executionProviders,
    });
    runners.set(key, runner);
    runner.catch(() => runners.delete(key));
  }
  return runner;
}

// One open model per worker process and model version: an onnxruntime session is expensive to create and safe to
// share between the activities of one process. Execution providers: the manifest's, else the configured ones.
import { loadConfig } from '../config/config.ts';
import type { ModelManifest } from './manifest.ts';
import { type ModelRunner, openModelRunner } from './runner.ts';

const runners = new Map<string, Promise<ModelRunner>>();

/** The process's runner for this model (opened on first use; a failed open is tried again next time). */
export function sharedModelRunnerFor(manifest: ModelManifest): Promise<ModelRunner> {
  const key = `${manifest.name}@${manifest.version}`;
  let runner = runners.get(key);
  if (!runner) {
    runner = openModelRunner(manifest, {
      executionProviders: manifest.executionProviders ?? loadConfig(process.env).models.executionProviders,
    });
    runners.set(key, runner);
    runner.catch(() => runners.delete(key));
  }
  return runner;
}

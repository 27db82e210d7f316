// Runs media features in-process on a file, the way the compute activity would but without Temporal or Postgres:
// for library-level tests and benchmarks of what a feature does (the mesh tests cover how it is run).
import { pino } from 'pino';
import type { AnyFeature, StoredInput } from '../../lib/features/definition.ts';
import { normalizeParams } from '../../lib/features/params.ts';
import type { MediaTools } from '../../lib/media/tools.ts';
import { type ObjectStore, sha256File } from '../../lib/objects/store.ts';

export interface LocalRun {
  entityKey: string;
  values: Record<string, StoredInput>;
  heartbeats: unknown[];
}

/**
 * Computes `features` in order (dependencies first) on one file and returns every value by feature name;
 * `given` values (from an earlier run) stand in for dependencies not computed again.
 * Output is validated against each feature's schema, as the compute activity does.
 */
export async function runLocally(
  features: AnyFeature[],
  file: string,
  deps: { objects: ObjectStore; tools: MediaTools; signal?: AbortSignal },
  given: Record<string, StoredInput> = {},
): Promise<LocalRun> {
  const { sha256: entityKey } = await sha256File(file);
  const run: LocalRun = { entityKey, values: { ...given }, heartbeats: [] };
  for (const feature of features) {
    const inputs: Record<string, StoredInput> = {};
    for (const dep of feature.dependencies) {
      const input = run.values[dep];
      if (!input) throw new Error(`${feature.name} needs ${dep} first`);
      inputs[dep] = input;
    }
    const raw = await feature.compute({
      entityKey,
      titleId: undefined,
      params: normalizeParams(feature, {}).params,
      inputs,
      heartbeat: (p?: unknown) => run.heartbeats.push(p),
      signal: deps.signal ?? new AbortController().signal,
      log: pino({ level: 'silent' }),
      objects: deps.objects,
      tools: deps.tools,
      assetPath: async () => file,
      attempt: 1,
    });
    const value = feature.output.parse(raw) as { object?: { uri: string } };
    run.values[feature.name] = {
      valueId: String(Object.keys(run.values).length + 1),
      feature: feature.name,
      version: feature.version,
      value,
      objectUri: value.object?.uri ?? null,
    };
  }
  return run;
}

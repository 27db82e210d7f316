import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { AnyFeature } from './definition.ts';
import { canonicalJson, sha256Hex } from './params.ts';

export class FeatureGraphError extends Error {
  override name = 'FeatureGraphError';
}

/** The validated set of features a process serves. Built once at start-up; immutable afterwards. */
export class FeatureRegistry {
  readonly #features: ReadonlyMap<string, AnyFeature>;

  constructor(features: readonly AnyFeature[]) {
    const byName = new Map<string, AnyFeature>();
    for (const f of features) {
      const prev = byName.get(f.name);
      if (prev && prev !== f) throw new FeatureGraphError(`feature ${f.name} is registered twice`);
      byName.set(f.name, f);
    }
    validateGraph(byName);
    this.#features = byName;
  }

  get(name: string): AnyFeature | undefined {
    return this.#features.get(name);
  }

  list(): AnyFeature[] {
    return [...this.#features.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The feature and everything it depends on, dependencies first. */
  closure(name: string): AnyFeature[] {
    const out: AnyFeature[] = [];
    const seen = new Set<string>();
    const visit = (n: string) => {
      if (seen.has(n)) return;
      seen.add(n);
      const f = this.#features.get(n)!;
      for (const d of f.dependencies) visit(d);
      out.push(f);
    };
    visit(name);
    return out;
  }
}

function validateGraph(features: ReadonlyMap<string, AnyFeature>): void {
  const problems: string[] = [];
  for (const f of features.values()) {
    for (const dep of f.dependencies) {
      const d = features.get(dep);
      if (!d) problems.push(`${f.name} depends on unknown feature ${dep}`);
      else if (d.entityType !== f.entityType) {
        problems.push(
          `${f.name} (per ${f.entityType}) depends on ${dep} (per ${d.entityType}): entity types must match`,
        );
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      problems.push(`dependency cycle: ${cycle.join(' -> ')}`);
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of features.get(name)?.dependencies ?? []) if (features.has(dep)) visit(dep);
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of features.keys()) visit(name);
  if (problems.length > 0) throw new FeatureGraphError(`invalid feature graph:\n  ${problems.join('\n  ')}`);
}

/** A feature as APIs list it. */
export function describeFeature(f: AnyFeature) {
  return {
    name: f.name,
    version: f.version,
    description: f.description,
    entityType: f.entityType,
    taskQueue: f.taskQueue,
    dependencies: f.dependencies,
  };
}

/** What the database records about a definition; a changed code hash under the same version is worth a warning. */
export function definitionRecord(f: AnyFeature) {
  return {
    name: f.name,
    version: f.version,
    codeHash: f.codeHash,
    paramsHash: sha256Hex(canonicalJson(f.params ? z.toJSONSchema(f.params, { io: 'input' }) : {})),
    entityType: f.entityType,
    taskQueue: f.taskQueue,
    outputKind: f.outputKind,
    outputSchema: z.toJSONSchema(f.output, { unrepresentable: 'any' }) as object,
    dependencies: f.dependencies,
    sinks: f.sinks,
  };
}

function isFeature(x: unknown): x is AnyFeature {
  return !!x && typeof x === 'object' && 'name' in x && 'compute' in x && 'codeHash' in x;
}

/** Imports modules that export features (default export: a feature or an array of them). */
export async function importFeatureModules(modules: readonly string[]): Promise<AnyFeature[]> {
  const out: AnyFeature[] = [];
  for (const m of modules) {
    const url = m.startsWith('file:') ? m : pathToFileURL(path.resolve(m)).href;
    let mod: { default?: unknown };
    try {
      mod = await import(url);
    } catch (err) {
      throw new FeatureGraphError(`cannot load feature module ${m}: ${(err as Error).message}`);
    }
    const exported = Array.isArray(mod.default) ? mod.default : [mod.default];
    const bad = exported.filter((x) => !isFeature(x));
    if (bad.length > 0 || exported.length === 0) {
      throw new FeatureGraphError(
        `feature module ${m} must default-export a feature or an array of features`,
      );
    }
    out.push(...exported);
  }
  return out;
}

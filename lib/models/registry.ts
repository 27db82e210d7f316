// Where models come from: the built-in descriptor models (ONNX graphs built in code), then user models in the
// models dir (config.models.dir), each a `<name>.json` manifest beside its `.onnx` file.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { LAYOUT_DIM, layoutManifest, layoutModel } from './layout.ts';
import { MODEL_NAME, type ModelManifest, ModelManifestError, parseModelManifest } from './manifest.ts';

interface Builtin {
  manifest: ModelManifest;
  bytes: () => Uint8Array;
}

const BUILTINS: Builtin[] = [{ manifest: layoutManifest, bytes: layoutModel }];

// A manifest and its graph must agree; a cheap guard against editing one without the other.
if (layoutManifest.output.dim !== LAYOUT_DIM) throw new Error('layout manifest and graph disagree');

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
  constructor(
    readonly model: string,
    readonly available: string[],
  ) {
    super(`no model '${model}'; available: ${available.length ? available.join(', ') : '(none)'}`);
  }
}

/** The built-in models' manifests (copies: callers may not alter the registry). */
export function builtinModelManifests(): ModelManifest[] {
  return BUILTINS.map((b) => structuredClone(b.manifest));
}

/** The serialized ONNX graph of a built-in model (deterministic bytes, built once per process). */
export function builtinModelBytes(name: string): Uint8Array {
  const b = BUILTINS.find((x) => x.manifest.name === name);
  if (!b)
    throw new ModelNotFoundError(
      name,
      BUILTINS.map((x) => x.manifest.name),
    );
  return b.bytes();
}

async function userModelNames(modelsDir: string): Promise<string[]> {
  try {
    return (await fs.readdir(modelsDir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .filter((n) => MODEL_NAME.test(n))
      .sort();
  } catch {
    return [];
  }
}

/** Reads and validates `file` as a manifest; a 'file' source path is resolved against the json's directory. */
export async function readModelManifest(file: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new ModelManifestError(`cannot read model manifest ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelManifestError(`model manifest ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const expected = path.basename(file, '.json');
  // The usual case, a model file beside its manifest, needs no source at all.
  if (json && typeof json === 'object' && !Array.isArray(json) && !('source' in json)) {
    json = { ...json, source: { kind: 'file', path: `${expected}.onnx` } };
  }
  const manifest = parseModelManifest(json, `model manifest ${file}`);
  if (manifest.name !== expected) {
    throw new ModelManifestError(
      `model manifest ${file} is invalid: name: '${manifest.name}' must match the file name '${expected}'`,
    );
  }
  if (manifest.source.kind === 'builtin') {
    throw new ModelManifestError(
      `model manifest ${file} is invalid: source.kind: 'builtin' is reserved for built-in models`,
    );
  }
  return {
    ...manifest,
    source: { ...manifest.source, path: path.resolve(path.dirname(file), manifest.source.path) },
  };
}

/**
 * A model by name: a built-in one first, else `<modelsDir>/<name>.json` (validated; its 'file' path made
 * absolute, relative paths being relative to the json). Unknown names fail with ModelNotFoundError listing what
 * exists.
 */
export async function findModel(name: string, modelsDir: string): Promise<ModelManifest> {
  const builtin = BUILTINS.find((b) => b.manifest.name === name);
  if (builtin) return structuredClone(builtin.manifest);
  const users = await userModelNames(modelsDir);
  if (!MODEL_NAME.test(name) || !users.includes(name)) {
    const all = [
      ...BUILTINS.map((b) => b.manifest.name),
      ...users.filter((u) => !BUILTINS.some((b) => b.manifest.name === u)),
    ];
    throw new ModelNotFoundError(name, all);
  }
  return readModelManifest(path.join(modelsDir, `${name}.json`));
}

/** The model file's bytes: built for a built-in model, read (and checked against source.sha256) for a file. */
export async function modelBytes(manifest: ModelManifest): Promise<Uint8Array> {
  if (manifest.source.kind === 'builtin') return builtinModelBytes(manifest.name);
  const file = manifest.source.path;
  let data: Uint8Array;
  try {
    data = await fs.readFile(file);
  } catch (e) {
    throw new ModelManifestError(`model '${manifest.name}': cannot read ${file}: ${(e as Error).message}`);
  }
  if (manifest.source.sha256) {
    const actual = sha256(data);
    if (actual !== manifest.source.sha256) {
      throw new ModelManifestError(
        `model '${manifest.name}': ${file} has sha256 ${actual}, the manifest expects ${manifest.source.sha256}`,
      );
    }
  }
  return data;
}

export function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

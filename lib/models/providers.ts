// Execution providers: the configured preference list (e.g. ['cuda', 'cpu']) narrowed to what this
// onnxruntime-node build can actually load. ort.listSupportedBackends() names every provider the binding was
// compiled with; those marked `bundled: false` (cuda, tensorrt on linux/x64) also need their provider library
// (libonnxruntime_providers_<name>.so, fetched by onnxruntime-node's install script, which this project denies
// so that installs stay offline) beside the binding. CPU is always available and always the last resort.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';

export interface ResolvedProviders {
  /** Usable providers, in preference order, always including 'cpu' (appended when not requested). */
  providers: string[];
  /** Requested providers this build cannot load (normalized names). */
  skipped: string[];
}

/** 'CUDAExecutionProvider', 'CUDA', 'cuda' → 'cuda'. */
export function normalizeProviderName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/executionprovider$/, '');
}

function bindingDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

function providerLibrary(dir: string, name: string): string {
  if (process.platform === 'win32') return path.join(dir, `onnxruntime_providers_${name}.dll`);
  if (process.platform === 'darwin') return path.join(dir, `libonnxruntime_providers_${name}.dylib`);
  return path.join(dir, `libonnxruntime_providers_${name}.so`);
}

export interface BackendInfo {
  name: string;
  /** Compiled into the binding and shipped with the npm package. */
  bundled: boolean;
  /** Loadable here: bundled, or its provider library is installed beside the binding. */
  available: boolean;
}

let backends: BackendInfo[] | undefined;

/** What this onnxruntime-node build reports, and which of those can be loaded on this machine. */
export function supportedBackends(): BackendInfo[] {
  if (backends) return backends;
  const dir = bindingDir();
  const listed = typeof ort.listSupportedBackends === 'function' ? ort.listSupportedBackends() : [];
  backends = listed.map((b) => {
    const name = normalizeProviderName(b.name);
    const available =
      name === 'cpu' ||
      b.bundled ||
      (dir !== undefined &&
        fs.existsSync(providerLibrary(dir, name)) &&
        fs.existsSync(providerLibrary(dir, 'shared')));
    return { name, bundled: b.bundled, available };
  });
  if (!backends.some((b) => b.name === 'cpu')) backends.push({ name: 'cpu', bundled: true, available: true });
  return backends;
}

/**
 * Keeps the preferred providers this build can load, in order, dropping duplicates; 'cpu' is appended when
 * missing so a session can always be created. On a machine without the CUDA provider library,
 * ['cuda', 'cpu'] → { providers: ['cpu'], skipped: ['cuda'] }.
 */
export function resolveExecutionProviders(preferred: string[]): ResolvedProviders {
  const available = new Set(
    supportedBackends()
      .filter((b) => b.available)
      .map((b) => b.name),
  );
  const providers: string[] = [];
  const skipped: string[] = [];
  for (const raw of preferred) {
    const name = normalizeProviderName(raw);
    if (!name || providers.includes(name) || skipped.includes(name)) continue;
    (available.has(name) ? providers : skipped).push(name);
  }
  // CPU is the last resort; the order given is kept otherwise (onnxruntime assigns each node to the first
  // provider in the list that supports it, so a provider listed after 'cpu' is never used).
  if (!providers.includes('cpu')) providers.push('cpu');
  return { providers, skipped };
}

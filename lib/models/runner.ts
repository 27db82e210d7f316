// One onnxruntime session per opened model: pictures in (rgb24), embedding rows out. The session's execution
// providers come from the manifest or config, narrowed to what this build can load (providers.ts); the model
// file is checked against its manifest (opset, input/output names, input shape) when it is opened, so a wrong
// manifest fails at once with what differs instead of producing garbage rows.
import os from 'node:os';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { type ModelManifest, ModelManifestError } from './manifest.ts';
import { picturesToTensor } from './preprocess.ts';
import { resolveExecutionProviders } from './providers.ts';
import { modelBytes, sha256 } from './registry.ts';

export interface ModelRunner {
  readonly manifest: ModelManifest;
  /** The providers the session was created with, in order (always ending with 'cpu' here). */
  readonly providers: string[];
  /** Requested providers this build or machine could not use. */
  readonly skipped: string[];
  readonly dim: number;
  /** sha256 of the model bytes the session runs (the built-in graphs are deterministic). */
  readonly modelSha256: string;
  /**
   * frames: packed rgb24 pictures, each exactly manifest.input.width × height × 3 bytes. Returns n × dim float32
   * rows (L2-normalized when manifest.output.normalize). Batches internally (batchSize, default 32).
   */
  embed(frames: Uint8Array[]): Promise<Float32Array>;
  /**
   * Runs the session on an already pre-processed tensor (e.g. another size, for models with dynamic spatial
   * dimensions such as text detectors) and returns the manifest's output tensor as is.
   */
  infer(
    data: Float32Array,
    dims: readonly number[],
  ): Promise<{ data: Float32Array; dims: readonly number[] }>;
  close(): Promise<void>;
}

export interface ModelRunnerOptions {
  /** From config.models.executionProviders; the manifest's own list wins when it has one. */
  executionProviders: string[];
  /** Intra-op threads; default: every core. */
  threads?: number;
  /** Pictures per session run in embed(); default 32. */
  batchSize?: number;
}

export class ModelRunError extends Error {
  override name = 'ModelRunError';
}

/** The default-domain opset a serialized model imports (undefined when it imports none). */
export function modelOpset(bytes: Uint8Array): number | undefined {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry?.version == null ? undefined : Number(entry.version);
}

function checkModel(manifest: ModelManifest, session: ort.InferenceSession, opset: number | undefined): void {
  const where = `model '${manifest.name}'`;
  if (opset !== manifest.opset) {
    throw new ModelManifestError(
      `${where}: the manifest says opset ${manifest.opset}, the model file imports ${opset ?? 'none'}`,
    );
  }
  const { input, output } = manifest;
  if (!session.inputNames.includes(input.name)) {
    throw new ModelManifestError(
      `${where}: no input '${input.name}'; the model's inputs: ${session.inputNames.join(', ')}`,
    );
  }
  if (!session.outputNames.includes(output.name)) {
    throw new ModelManifestError(
      `${where}: no output '${output.name}'; the model's outputs: ${session.outputNames.join(', ')}`,
    );
  }
  const meta = session.inputMetadata.find((m) => m.name === input.name);
  if (meta?.isTensor) {
    if (meta.type !== 'float32')
      throw new ModelManifestError(`${where}: input '${input.name}' is ${meta.type}, not float32`);
    const expected =
      input.layout === 'NCHW' ? [3, input.height, input.width] : [input.height, input.width, 3];
    const shape = meta.shape;
    if (shape.length !== 4) {
      throw new ModelManifestError(
        `${where}: input '${input.name}' has rank ${shape.length}, expected 4 (${input.layout})`,
      );
    }
    shape.slice(1).forEach((d, i) => {
      if (typeof d === 'number' && d > 0 && d !== expected[i]) {
        throw new ModelManifestError(
          `${where}: input '${input.name}' has shape [${shape.join(', ')}], the manifest describes [N, ${expected.join(', ')}] (${input.layout})`,
        );
      }
    });
  }
  const out = session.outputMetadata.find((m) => m.name === output.name);
  if (out?.isTensor && out.shape.slice(1).every((d) => typeof d === 'number' && d > 0)) {
    const dim = out.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);
    if (dim !== output.dim) {
      throw new ModelManifestError(
        `${where}: output '${output.name}' has shape [${out.shape.join(', ')}] (${dim} values per picture), the manifest says dim ${output.dim}`,
      );
    }
  }
}

async function createSession(
  bytes: Uint8Array,
  providers: string[],
  threads: number,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/** L2-normalizes each row of `rows` (n × dim) in place; an all-zero row stays zero. */
export function l2NormalizeRows(rows: Float32Array, dim: number): void {
  for (let o = 0; o < rows.length; o += dim) {
    let s = 0;
    for (let i = o; i < o + dim; i++) s += rows[i]! * rows[i]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let i = o; i < o + dim; i++) rows[i]! *= inv;
  }
}

/** Opens `manifest`'s model on the first usable execution provider (falling back to CPU if a GPU one fails). */
export async function openModelRunner(
  manifest: ModelManifest,
  opts: ModelRunnerOptions,
): Promise<ModelRunner> {
  const bytes = await modelBytes(manifest);
  const opset = modelOpset(bytes);
  const threads = opts.threads ?? os.availableParallelism();
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 32));
  const resolved = resolveExecutionProviders(manifest.executionProviders ?? opts.executionProviders);
  let providers = resolved.providers;
  const skipped = [...resolved.skipped];
  let session: ort.InferenceSession;
  try {
    session = await createSession(bytes, providers, threads);
  } catch (e) {
    // A provider can be present in the build and still fail here (no device, driver mismatch): run on CPU.
    if (providers.length === 1 && providers[0] === 'cpu') throw e;
    skipped.push(...providers.filter((p) => p !== 'cpu'));
    providers = ['cpu'];
    session = await createSession(bytes, providers, threads);
  }
  try {
    checkModel(manifest, session, opset);
  } catch (e) {
    await session.release();
    throw e;
  }

  const { input, output } = manifest;
  const per = 3 * input.width * input.height;
  const dims = (n: number) =>
    input.layout === 'NCHW' ? [n, 3, input.height, input.width] : [n, input.height, input.width, 3];
  let buffer: Float32Array | undefined;
  let closed = false;

  const run = async (data: Float32Array, shape: readonly number[]) => {
    if (closed) throw new ModelRunError(`model '${manifest.name}' is closed`);
    const result = await session.run({ [input.name]: new ort.Tensor('float32', data, shape) }, [output.name]);
    const t = result[output.name];
    if (t?.type !== 'float32') {
      throw new ModelRunError(
        `model '${manifest.name}': output '${output.name}' is ${t?.type ?? 'missing'}, not float32`,
      );
    }
    return { data: t.data as Float32Array, dims: t.dims };
  };

  return {
    manifest,
    providers,
    skipped,
    dim: output.dim,
    modelSha256: sha256(bytes),
    async embed(frames) {
      frames.forEach((f, i) => {
        if (f.length !== per) {
          throw new RangeError(
            `model '${manifest.name}': frame ${i} has ${f.length} bytes, expected ${per} (${input.width}×${input.height} rgb24)`,
          );
        }
      });
      const rows = new Float32Array(frames.length * output.dim);
      for (let start = 0; start < frames.length; start += batchSize) {
        const batch = frames.slice(start, start + batchSize);
        buffer ??= new Float32Array(Math.min(batchSize, frames.length) * per);
        if (buffer.length < batch.length * per) buffer = new Float32Array(batch.length * per);
        const data = picturesToTensor(batch, input.width, input.height, input, buffer).subarray(
          0,
          batch.length * per,
        );
        const out = await run(data, dims(batch.length));
        if (out.data.length !== batch.length * output.dim) {
          throw new ModelRunError(
            `model '${manifest.name}': output '${output.name}' has shape [${out.dims.join(', ')}], expected ${batch.length} × ${output.dim} values`,
          );
        }
        rows.set(out.data, start * output.dim);
      }
      if (output.normalize) l2NormalizeRows(rows, output.dim);
      return rows;
    },
    infer: run,
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

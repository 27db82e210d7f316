// A model manifest: everything the runtime needs to feed pictures to an ONNX image encoder and read its rows
// back (input size and layout, normalization, output name and dimension, opset, execution providers). The
// built-in models carry one in code; a user model is `<name>.json` beside its `.onnx` in the models dir.
import { z } from 'zod';

export type ModelSource = { kind: 'builtin' } | { kind: 'file'; path: string; sha256?: string };

export interface ModelInput {
  /** The graph's input tensor name. */
  name: string;
  /** Pictures are resized (see `resize`) to width × height before they reach the model. */
  width: number;
  height: number;
  /** NCHW: [N, 3, H, W]; NHWC: [N, H, W, 3]. */
  layout: 'NCHW' | 'NHWC';
  channels: 3;
  /** Channel order the model expects; frames arrive as rgb24 and are reordered when 'bgr'. */
  colorOrder: 'rgb' | 'bgr';
  /** Each 0..255 byte is multiplied by this first (e.g. 1/255); then (v - mean[c]) / std[c]. */
  scale: number;
  /** Per model channel (i.e. after colorOrder), applied after `scale`. */
  mean: [number, number, number];
  std: [number, number, number];
  /** How a picture of another size is brought to width × height (aspect ratio is not kept). */
  resize: 'stretch';
}

export interface ModelOutput {
  /** The graph's output tensor whose rows are the embedding. */
  name: string;
  /** Values per picture (the product of the output's non-batch dimensions). */
  dim: number;
  /** L2-normalize each row after inference. */
  normalize: boolean;
}

export interface ModelManifest {
  /** e.g. 'layout': feature names are shot-embedding:<name>. */
  name: string;
  /** Positive integer, part of the feature's memo identity: bump it when the model or its manifest changes. */
  version: number;
  description: string;
  source: ModelSource;
  input: ModelInput;
  output: ModelOutput;
  /** The default-domain opset the model file imports (checked when the model is opened). */
  opset: number;
  /** Overrides config.models.executionProviders when set. */
  executionProviders?: string[];
}

export const MODEL_NAME = /^[a-z0-9][a-z0-9-]*$/;

const positiveInt = z.number().int().positive();
const triple = z.tuple([z.number(), z.number(), z.number()]);

export const modelManifestSchema: z.ZodType<ModelManifest> = z
  .object({
    name: z
      .string()
      .regex(MODEL_NAME, 'lower-case letters, digits and dashes, starting with a letter or digit'),
    version: positiveInt,
    description: z.string().default(''),
    source: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('builtin') }).strict(),
      z
        .object({
          kind: z.literal('file'),
          path: z.string().min(1),
          sha256: z
            .string()
            .regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits')
            .optional(),
        })
        .strict(),
    ]),
    input: z
      .object({
        name: z.string().min(1),
        width: positiveInt.max(8192),
        height: positiveInt.max(8192),
        layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
        channels: z.literal(3).default(3),
        colorOrder: z.enum(['rgb', 'bgr']).default('rgb'),
        scale: z
          .number()
          .positive()
          .default(1 / 255),
        mean: triple.default([0, 0, 0]),
        std: triple.refine((s) => s.every((v) => v > 0), 'every std must be > 0').default([1, 1, 1]),
        resize: z.literal('stretch').default('stretch'),
      })
      .strict(),
    output: z
      .object({
        name: z.string().min(1),
        dim: positiveInt,
        normalize: z.boolean().default(true),
      })
      .strict(),
    opset: positiveInt,
    executionProviders: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export class ModelManifestError extends Error {
  override name = 'ModelManifestError';
}

/** Validates a parsed manifest; the error names the file (when given) and each offending field's path. */
export function parseModelManifest(value: unknown, where = 'model manifest'): ModelManifest {
  const r = modelManifestSchema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new ModelManifestError(`${where} is invalid: ${problems.join('; ')}`);
}

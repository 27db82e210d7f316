// A standardization recipe is a feature whose value is one content-addressed derivative made by one ffmpeg
// command. This module holds what every recipe shares: the QC gate, the scratch file, progress heartbeats,
// the atomic move into the object store and the provenance recorded with the value.
import { z } from 'zod';
import { BadInputError, defineFeature, type FeatureContext } from '../features/definition.ts';
import { withScratchPath } from '../objects/scratch.ts';
import { type ObjectRef, objectRefSchema } from '../objects/store.ts';
import type { MediaMetadata } from './metadata.ts';
import { type FfmpegProgress, runFfmpeg } from './process.ts';
import { type QcCode, type QcVerdict, rejectionMessage } from './qc.ts';
import { type MediaTools, toolVersion } from './tools.ts';

export const recipeValueSchema = z.object({
  object: objectRefSchema,
  /** `<name>@<version>`: the same recipe on the same input and the same ffmpeg gives the same bytes. */
  recipe: z.string(),
  ffmpeg: z.string(),
  /** The exact ffmpeg arguments, with `{input}` and `{output}` for the paths. */
  args: z.array(z.string()),
  /** The QC findings this derivative normalizes (soft reason codes). */
  normalized: z.array(z.string()),
});

export interface RecipePlan<F> {
  /** ffmpeg arguments writing the derivative to `output`. */
  args(output: string): string[];
  /** Paths to show as placeholders in the recorded arguments. */
  placeholders: Record<string, string>;
  /** Media seconds the command produces, for the progress fraction. */
  expectedDurationSec: number;
  /** Facts about the finished derivative, recorded in the value. */
  facts(file: string, tools: MediaTools, signal: AbortSignal): Promise<F>;
}

interface RecipeSpec<S extends z.ZodRawShape> {
  name: string;
  version: number;
  description: string;
  module: string;
  dependencies: string[];
  /** Recipe-specific facts about the derivative (size, rate, counts), recorded beside the common fields. */
  facts: z.ZodObject<S>;
  /** Soft QC findings this recipe normalizes. */
  handles: QcCode[];
  plan(ctx: FeatureContext<Record<string, never>>): Promise<RecipePlan<z.infer<z.ZodObject<S>>>>;
}

/** The QC verdict among a feature's inputs; a rejected asset is refused with every hard reason named. */
export function acceptedVerdict(ctx: FeatureContext<unknown>): QcVerdict {
  const verdict = ctx.inputs['media-qc']?.value as QcVerdict | undefined;
  if (!verdict) throw new Error(`${ctx.entityKey}: media-qc is not among the inputs`);
  if (verdict.status === 'reject') {
    throw new BadInputError(`asset quarantined by media-qc: ${rejectionMessage(verdict)}`);
  }
  return verdict;
}

/**
 * The derivative the QC gate wrote on its decode pass, when it is exactly what this recipe would write (same recipe
 * id, ffmpeg and arguments) and still in the store.
 */
async function stagedByQc(
  ctx: FeatureContext<unknown>,
  verdict: QcVerdict | undefined,
  wanted: { recipe: string; ffmpeg: string; args: string[] },
): Promise<ObjectRef | null> {
  const match = (verdict?.staged ?? []).find(
    (s) =>
      s.recipe === wanted.recipe &&
      s.ffmpeg === wanted.ffmpeg &&
      s.args.length === wanted.args.length &&
      s.args.every((a, i) => a === wanted.args[i]),
  );
  return match && (await ctx.objects.has(match.object.sha256)) ? match.object : null;
}

export const metadataInput = (ctx: FeatureContext<unknown>) =>
  ctx.inputs['media-metadata']!.value as MediaMetadata;

/** Runs one ffmpeg command into a scratch file and moves the result into the object store by content. */
export async function produceObject(
  ctx: Pick<FeatureContext<unknown>, 'objects' | 'tools' | 'signal' | 'heartbeat'>,
  key: string,
  args: (output: string) => string[],
  expectedDurationSec: number,
): Promise<{ object: ObjectRef; progress: FfmpegProgress }> {
  return withScratchPath(ctx.objects.scratchDir, key, async (output) => {
    const { progress } = await runFfmpeg(ctx.tools.ffmpeg, args(output), {
      signal: ctx.signal,
      stallMs: 120_000,
      onProgress: (p) =>
        ctx.heartbeat({
          stage: key,
          frame: p.frame,
          outTimeSec: p.outTimeSec,
          fraction: expectedDurationSec > 0 ? Math.min(1, p.outTimeSec / expectedDurationSec) : null,
          speed: p.speed,
        }),
    });
    return { object: await ctx.objects.putFile(output, { move: true }), progress };
  });
}

export function defineRecipe<S extends z.ZodRawShape>(spec: RecipeSpec<S>) {
  const recipe = `${spec.name}@${spec.version}`;
  const output = recipeValueSchema.extend(spec.facts.shape);
  return defineFeature<z.infer<typeof output>>({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    module: spec.module,
    entityType: 'asset',
    taskQueue: 'cpu',
    dependencies: spec.dependencies,
    outputKind: 'object',
    output,
    // ffmpeg reports progress every 0.5 s; a worker silent for 15 s is gone and the transcode restarts elsewhere.
    heartbeatTimeoutMs: 15_000,
    timeoutMs: 6 * 60 * 60_000,
    async compute(ctx) {
      const verdict = spec.dependencies.includes('media-qc') ? acceptedVerdict(ctx) : undefined;
      const plan = await spec.plan(ctx);
      let recorded = plan.args('{output}');
      for (const [placeholder, path] of Object.entries(plan.placeholders)) {
        recorded = recorded.map((a) => a.replaceAll(path, placeholder));
      }
      const ffmpeg = await toolVersion(ctx.tools.ffmpeg);
      const staged = await stagedByQc(ctx, verdict, { recipe, ffmpeg, args: recorded });
      // The QC gate decoded this input, so an ffmpeg failure here is worth retrying (MediaToolError is).
      const object =
        staged ??
        (await produceObject(ctx, `${recipe}-${ctx.entityKey}`, plan.args, plan.expectedDurationSec)).object;
      const file = await ctx.objects.localPath(object);
      const facts = await plan.facts(file, ctx.tools, ctx.signal);
      ctx.log.info({ recipe, object: object.uri, staged: !!staged }, 'derivative stored');
      return {
        object,
        recipe,
        ffmpeg,
        args: recorded,
        normalized: (verdict?.reasons ?? [])
          .filter((r) => r.severity === 'soft' && spec.handles.includes(r.code))
          .map((r) => r.code),
        ...facts,
      } as z.infer<typeof output>;
    },
  });
}

